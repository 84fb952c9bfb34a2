// Small whole-file helpers shared by every module: read text/JSON, write atomically.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace lookalike {

Result<std::string> read_file(const std::filesystem::path& path);

// Parses a JSON file; errors name the file and the parser's position.
Result<nlohmann::json> read_json_file(const std::filesystem::path& path);

// Writes to `path.tmp-<pid>` and renames over `path`, so readers never see a half-written file.
Status write_file_atomic(const std::filesystem::path& path, std::string_view contents);

}  // namespace lookalike
