// Reads a `.env` file (KEY=VALUE lines, # comments, optional quotes) into the process environment
// without overriding variables that are already set. Together with CLI11's env fallbacks this
// gives Lookalike's precedence: flags > LOOKALIKE_* environment > .env file > defaults.
#pragma once

#include <filesystem>

#include "core/result.h"

namespace lookalike::apps {

// A missing file is not an error (most runs have none); a malformed line is, naming the line.
Status load_env_file(const std::filesystem::path& path);

}  // namespace lookalike::apps
