// RedisUrl: the parts of a "redis://[[user]:password@]host[:port][/db]" URL (the --redis-url
// flag). Percent-escapes in user and password are decoded; IPv6 hosts go in brackets.
// Thread-safety: plain value. Errors never quote the URL (it may hold a password).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace lookalike::jobs {

struct RedisUrl {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string username;  // empty: AUTH with the password alone (the "default" user)
  std::string password;  // empty: no AUTH

  // "host:port" ("[::1]:6379"), for messages: never the credentials.
  std::string endpoint() const;
};

// kInvalidArgument (saying what is wrong, not echoing the URL) for another scheme (rediss:// and
// unix sockets are not supported), a missing host, a port outside 1..65535 or a db that is not a
// non-negative integer.
Result<RedisUrl> parse_redis_url(std::string_view url);

}  // namespace lookalike::jobs
