// How commands talk to people and scripts: one JSON object per line on stdout for results,
// errors on stderr (also as JSON lines, so scripts can parse them), and exit codes.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace lookalike::apps {

// Exit codes of every subcommand.
enum ExitCode : int {
  kExitOk = 0,
  kExitPartial = 1,  // some inputs failed; the others were processed and printed
  kExitFailure = 2,  // nothing useful could be done (bad model, bad options)
};

void print_json_line(const nlohmann::ordered_json& value);
// {"error": {"code": ..., "message": ...}} plus `context` fields (e.g. "file"), on stderr.
void print_error(const Error& error, const nlohmann::json& context = nlohmann::json::object());

// Prints the error and returns kExitFailure: `return fail(status.error());`
int fail(const Error& error);

}  // namespace lookalike::apps
