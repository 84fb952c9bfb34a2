// ProgressBar must survive counts that overtake their total (a bug that crashed `ingest` when a
// source reported bad items that were counted as done but not as listed).
#include <gtest/gtest.h>

#include "apps/progress_bar.h"

namespace lookalike::apps {
namespace {

TEST(ProgressBar, DoneBeyondTotalDoesNotThrow) {
  ProgressBar bar("test", "items");
  EXPECT_NO_THROW(bar.update(5, 3));
  EXPECT_NO_THROW(bar.finish());
}

}  // namespace
}  // namespace lookalike::apps
