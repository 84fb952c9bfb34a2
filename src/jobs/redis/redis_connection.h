// RedisConnection: a small synchronous Redis client over hiredis for the job queue: connects with
// a timeout, authenticates (AUTH [user] password), selects the database, sends binary-safe argv
// commands and converts replies to RedisValue. A command that finds the connection broken (server
// restarted, idle connection dropped) reconnects and is sent once more; if that fails too the
// next command tries to connect again. No hiredis type appears outside redis_connection.cpp.
// Thread-safety: one mutex around the connection: commands from several threads are serialised.
// SIGPIPE from a dropped socket is blocked and consumed on the calling thread, never delivered.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"
#include "jobs/redis/redis_url.h"

namespace lookalike::jobs {

// One Redis reply. Error replies never become a RedisValue: command() returns them as Errors.
struct RedisValue {
  enum class Type { kNil, kInteger, kString, kStatus, kArray };
  Type type = Type::kNil;
  std::int64_t integer = 0;          // kInteger
  std::string text;                  // kString, kStatus
  std::vector<RedisValue> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
};

struct RedisConnectionOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{5000};
};

class RedisConnection {
 public:
  // Connects (and checks the credentials with PING). kNetwork naming host:port when the server
  // cannot be reached or does not answer; kInvalidArgument when it refuses the credentials or
  // needs a password the URL lacks. The password never appears in a message.
  static Result<std::unique_ptr<RedisConnection>> open(const RedisUrl& url,
                                                       const RedisConnectionOptions& options = {});
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Sends one command (argv[0] the command name; arguments are binary-safe). Error replies:
  // kNetwork for transient ones (LOADING, BUSY, ...), kInvalidArgument for NOAUTH/WRONGPASS,
  // kInternal for the rest (a bug: wrong type, script error), each naming host:port.
  Result<RedisValue> command(const std::vector<std::string>& argv);

  const RedisUrl& url() const { return url_; }

 private:
  struct Context;  // owns the hiredis context

  RedisConnection(RedisUrl url, RedisConnectionOptions options);
  Status connect_locked();
  // One attempt on the current connection; `broken` tells whether the connection failed (as
  // opposed to the server answering with an error).
  Result<RedisValue> send_locked(const std::vector<std::string>& argv, bool& broken);

  const RedisUrl url_;
  const RedisConnectionOptions options_;
  std::mutex mutex_;
  std::unique_ptr<Context> context_;  // null while disconnected
};

}  // namespace lookalike::jobs
