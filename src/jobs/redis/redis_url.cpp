#include "jobs/redis/redis_url.h"

#include <charconv>

namespace lookalike::jobs {

namespace {

Error bad_url(const std::string& why) {
  return make_error(ErrorCode::kInvalidArgument,
                    "--redis-url must look like redis://[:password@]host:port[/db]: " + why);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> percent_decode(std::string_view text, const std::string& what) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return bad_url("bad %-escape in the " + what);
    int high = hex_value(text[i + 1]);
    int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return bad_url("bad %-escape in the " + what);
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

// A decimal integer in [min, max] filling all of `text`.
bool parse_int(std::string_view text, int min, int max, int& out) {
  if (text.empty()) return false;
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return false;
  }
  out = value;
  return true;
}

}  // namespace

std::string RedisUrl::endpoint() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<RedisUrl> parse_redis_url(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) {
    if (url.starts_with("rediss://")) return bad_url("TLS (rediss://) is not supported");
    return bad_url("the scheme must be redis://");
  }
  std::string_view rest = url.substr(kScheme.size());
  RedisUrl parsed;

  // Credentials end at the LAST '@' before the path: a password may contain '@' unescaped.
  std::string_view authority = rest.substr(0, rest.find('/'));
  std::string_view path = rest.substr(authority.size());
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    auto colon = userinfo.find(':');
    std::string_view user = userinfo.substr(0, colon);
    std::string_view password =
        colon == std::string_view::npos ? std::string_view() : userinfo.substr(colon + 1);
    if (colon == std::string_view::npos) {
      // "redis://secret@host": a lone userinfo is the password, as redis-cli reads it.
      password = user;
      user = {};
    }
    auto decoded_user = percent_decode(user, "user name");
    if (!decoded_user) return decoded_user.error();
    auto decoded_password = percent_decode(password, "password");
    if (!decoded_password) return decoded_password.error();
    parsed.username = *decoded_user;
    parsed.password = *decoded_password;
  }

  std::string_view port;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad_url("unclosed '[' in the host");
    parsed.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) return bad_url("unexpected text after the host");
      port = after.substr(1);
      if (port.empty()) return bad_url("empty port");
    }
  } else {
    auto colon = authority.rfind(':');
    parsed.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return bad_url("empty port");
    }
  }
  if (parsed.host.empty()) return bad_url("no host");
  if (!port.empty() && !parse_int(port, 1, 65535, parsed.port)) {
    return bad_url("the port must be a number in 1..65535");
  }

  if (!path.empty()) {
    std::string_view db = path.substr(1);
    if (auto query = db.find('?'); query != std::string_view::npos) {
      return bad_url("query parameters are not supported");
    }
    if (!db.empty() && !parse_int(db, 0, 1'000'000, parsed.db)) {
      return bad_url("the database after '/' must be a non-negative integer");
    }
  }
  return parsed;
}

}  // namespace lookalike::jobs
