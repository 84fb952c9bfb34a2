#include "index/index_factory.h"

#include "index/embedded/embedded_index.h"
#include "index/qdrant/qdrant_index.h"

namespace lookalike::index {

bool persists_applied_seq(const IndexOptions& options) { return options.backend == "embedded"; }

Result<std::unique_ptr<VectorIndex>> open_vector_index(const IndexOptions& options) {
  if (options.dimension < 0 || (options.dimension == 0 && !options.fingerprint.empty())) {
    return make_error(ErrorCode::kInvalidArgument, "index dimension must be positive");
  }
  if (options.dimension == 0 && options.backend != "embedded") {
    return make_error(ErrorCode::kInvalidArgument,
                      "the " + options.backend + " index needs the model (--model) to be opened");
  }
  if (options.backend == "embedded") return open_embedded_index(options);
  if (options.backend == "qdrant") {
    if (options.qdrant_url.empty()) {
      return make_error(ErrorCode::kInvalidArgument, "the qdrant index needs --qdrant-url");
    }
    return open_qdrant_index(options);
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown index backend '" + options.backend + "' (embedded or qdrant)");
}

}  // namespace lookalike::index
