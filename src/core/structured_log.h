// Structured logs: one JSON object per line on stderr ({"ts", "level", "event", ...fields}), so
// that journald, Docker and log shippers can parse what the server and workers do.
// Thread-safety: log_event may be called from any thread (each line is written with one call).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace lookalike {

// `fields` must be a JSON object (or null); its keys follow ts, level and event.
void log_event(std::string_view level, std::string_view event,
               const nlohmann::json& fields = nullptr);

}  // namespace lookalike
