// The web page end to end: a catalogue ingested with the tiny conformance model, the real
// `lookalike serve`, and headless Chromium (tests/js/web_ui_check.js, playwright-core) uploading a
// photo, opening the product, "More like this", a text query, filters, API errors (a missing key,
// a corrupt photo) and /docs.
// The screenshots land in LOOKALIKE_ARTIFACT_DIR (build/test-artifacts/web_ui*.png).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>

#include "server_process.h"
#include "test_catalogue.h"
#include "test_support.h"

namespace lookalike::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// tests/js beside tests/apps (CMake compiles absolute paths).
const fs::path kJsDir = fs::path(__FILE__).parent_path().parent_path() / "js";

fs::path tiny_model() { return conformance_dir() / "models" / "tiny-p32"; }

fs::path chromium() {
  const char* configured = std::getenv("LOOKALIKE_CHROMIUM");
  return configured != nullptr && *configured != '\0' ? fs::path(configured)
                                                      : fs::path("/usr/bin/chromium");
}

fs::path find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    fs::path candidate = fs::path(dir) / name;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

TEST(WebUiE2eTest, ShopperSearchesByPhotoBrowsesAndFiltersInChromium) {
  fs::path node = find_on_path("node");
  ASSERT_FALSE(node.empty()) << "node is not installed (run scripts/install-deps.sh)";
  ASSERT_TRUE(fs::exists(kJsDir / "node_modules" / "playwright-core" / "package.json"))
      << "playwright-core is not installed in " << kJsDir.string()
      << "/node_modules: run scripts/install-deps.sh (or npm ci --prefix tests/js)";
  ASSERT_TRUE(fs::exists(chromium()))
      << chromium() << " is missing: run scripts/install-deps.sh (Debian's chromium)";

  TempDir dir;
  // A manifest, so products carry titles, categories and prices for the filters.
  auto catalogue = make_test_catalogue(dir / "photos", 30, 3, 21);
  write_csv_manifest(catalogue, dir / "catalog.csv");
  fs::path data = dir / "data";
  auto ingest = run_command({lookalike_binary().string(), "ingest", (dir / "catalog.csv").string(),
                             "--data-dir", data.string(), "--model", tiny_model().string()});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;

  const auto& wanted = catalogue.products[7];
  fs::path query = dir / "query.jpg";
  write_bytes(query, rescaled_jpeg(wanted.images.back(), 0.7, 70));

  // A search key, so the page's "API key" field is exercised too (the check first expects 401).
  const std::string key = "shopper-key-4f2a";
  auto server =
      ServerProcess::start({"--data-dir", data.string(), "--model", tiny_model().string()},
                           {{"LOOKALIKE_SEARCH_API_KEY", key}});
  ASSERT_NE(server, nullptr);

  fs::path artifacts = LOOKALIKE_ARTIFACT_DIR;
  fs::create_directories(artifacts);
  fs::path screenshot = artifacts / "web_ui.png";
  fs::remove(screenshot);
  auto check = run_command({node.string(), (kJsDir / "web_ui_check.js").string(), "--url",
                            server->url(), "--image", query.string(), "--expect-external-id",
                            wanted.id, "--screenshot", screenshot.string(), "--api-key", key},
                           std::chrono::milliseconds(180s));
  EXPECT_EQ(check.exit_code, 0) << check.err << check.out << "\n--- server log ---\n"
                                << server->log();
  EXPECT_TRUE(fs::exists(screenshot));
  std::cout << "web UI check: " << check.out << "screenshot: " << screenshot.string() << "\n";
  RecordProperty("screenshot", screenshot.string());
  EXPECT_EQ(server->stop(), 0) << server->log();
}

}  // namespace
}  // namespace lookalike::testing
