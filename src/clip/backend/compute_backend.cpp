#include "clip/backend/compute_backend.h"

#include "clip/backend/onednn/onednn_backend.h"
#include "clip/backend/reference/reference_backend.h"

namespace lookalike::clip {

std::vector<std::string> compute_backend_names() { return {"onednn", "reference"}; }

Result<std::unique_ptr<ComputeBackend>> make_compute_backend(std::string_view name) {
  if (name == "onednn" || name.empty()) return std::unique_ptr<ComputeBackend>(new OnednnBackend());
  if (name == "reference") return std::unique_ptr<ComputeBackend>(new ReferenceBackend());
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown compute backend '" + std::string(name) + "' (onednn, reference)");
}

}  // namespace lookalike::clip
