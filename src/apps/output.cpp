#include "apps/output.h"

#include <cstdio>

namespace lookalike::apps {

void print_json_line(const nlohmann::ordered_json& value) {
  std::string line = value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stdout);
}

void print_error(const Error& error, const nlohmann::json& context) {
  nlohmann::json line = context;
  line["error"] = {{"code", error_code_name(error.code)}, {"message", error.message}};
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  std::fflush(stdout);
  std::fwrite(text.data(), 1, text.size(), stderr);
}

int fail(const Error& error) {
  print_error(error);
  return kExitFailure;
}

}  // namespace lookalike::apps
