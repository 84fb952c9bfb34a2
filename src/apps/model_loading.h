// Loads the CLIP model for a command and says so on stderr when it is a random-weight test model.
#pragma once

#include <filesystem>
#include <memory>

#include "apps/commands.h"
#include "clip/clip_model.h"

namespace lookalike::apps {

Result<std::unique_ptr<clip::ClipModel>> load_model_for_command(const std::filesystem::path& dir,
                                                                const GlobalOptions& global,
                                                                bool vision, bool text);

}  // namespace lookalike::apps
