#include "jobs/redis/redis_connection.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>
#include <ctime>
#include <utility>

namespace lookalike::jobs {

struct RedisConnection::Context {
  redisContext* raw = nullptr;
  explicit Context(redisContext* context) : raw(context) {}
  ~Context() {
    if (raw != nullptr) redisFree(raw);
  }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
};

namespace {

timeval to_timeval(std::chrono::milliseconds duration) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(duration.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
  return tv;
}

// Blocks SIGPIPE on this thread while a command writes to a socket the server may have closed,
// then consumes a SIGPIPE this scope raised, so that the write fails with EPIPE instead of killing
// the process (hiredis writes with write(2), not send(MSG_NOSIGNAL)).
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    blocked_ = pthread_sigmask(SIG_BLOCK, &block, &old_) == 0;
  }
  ~SigpipeGuard() {
    if (!blocked_) return;
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        sigset_t pipe;
        sigemptyset(&pipe);
        sigaddset(&pipe, SIGPIPE);
        timespec zero{};
        while (sigtimedwait(&pipe, nullptr, &zero) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t old_{};
  bool blocked_ = false;
  bool was_pending_ = false;
};

RedisValue convert(const redisReply* reply) {
  RedisValue value;
  switch (reply->type) {
    case REDIS_REPLY_INTEGER:
      value.type = RedisValue::Type::kInteger;
      value.integer = reply->integer;
      break;
    case REDIS_REPLY_STRING:
      value.type = RedisValue::Type::kString;
      value.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STATUS:
      value.type = RedisValue::Type::kStatus;
      value.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ARRAY:
      value.type = RedisValue::Type::kArray;
      value.elements.reserve(reply->elements);
      for (std::size_t i = 0; i < reply->elements; ++i) {
        value.elements.push_back(convert(reply->element[i]));
      }
      break;
    default:
      value.type = RedisValue::Type::kNil;
      break;
  }
  return value;
}

// The ErrorCode for an error reply, from its first word.
ErrorCode error_reply_code(const std::string& message) {
  const std::string word = message.substr(0, message.find(' '));
  if (word == "NOAUTH" || word == "WRONGPASS" || word == "NOPERM") {
    return ErrorCode::kInvalidArgument;
  }
  if (word == "LOADING" || word == "BUSY" || word == "MASTERDOWN" || word == "TRYAGAIN" ||
      word == "READONLY" || word == "CLUSTERDOWN") {
    return ErrorCode::kNetwork;
  }
  return ErrorCode::kInternal;
}

}  // namespace

RedisConnection::RedisConnection(RedisUrl url, RedisConnectionOptions options)
    : url_(std::move(url)), options_(options) {}

RedisConnection::~RedisConnection() = default;

Result<std::unique_ptr<RedisConnection>> RedisConnection::open(
    const RedisUrl& url, const RedisConnectionOptions& options) {
  std::unique_ptr<RedisConnection> connection(new RedisConnection(url, options));
  std::lock_guard lock(connection->mutex_);
  if (auto connected = connection->connect_locked(); !connected) return connected.error();
  return connection;
}

Status RedisConnection::connect_locked() {
  context_.reset();
  auto context = std::make_unique<Context>(
      redisConnectWithTimeout(url_.host.c_str(), url_.port, to_timeval(options_.connect_timeout)));
  if (context->raw == nullptr) {
    return make_error(ErrorCode::kNetwork,
                      "cannot connect to Redis at " + url_.endpoint() + ": out of memory");
  }
  if (context->raw->err != 0) {
    return make_error(ErrorCode::kNetwork, "cannot connect to Redis at " + url_.endpoint() + ": " +
                                               context->raw->errstr);
  }
  if (redisSetTimeout(context->raw, to_timeval(options_.command_timeout)) != REDIS_OK) {
    return make_error(ErrorCode::kNetwork,
                      "cannot set the socket timeout for Redis at " + url_.endpoint());
  }
  redisEnableKeepAlive(context->raw);
  context_ = std::move(context);

  // Handshake: a failure here is not retried (the caller's command reports it).
  std::vector<std::vector<std::string>> handshake;
  if (!url_.password.empty()) {
    if (url_.username.empty()) {
      handshake.push_back({"AUTH", url_.password});
    } else {
      handshake.push_back({"AUTH", url_.username, url_.password});
    }
  }
  if (url_.db != 0) handshake.push_back({"SELECT", std::to_string(url_.db)});
  handshake.push_back({"PING"});
  for (const auto& argv : handshake) {
    bool broken = false;
    auto reply = send_locked(argv, broken);
    if (!reply) {
      context_.reset();
      if (argv[0] == "AUTH" && reply.error().code != ErrorCode::kNetwork) {
        return make_error(
            ErrorCode::kInvalidArgument,
            "Redis at " + url_.endpoint() + " refused the credentials of --redis-url");
      }
      if (reply.error().code == ErrorCode::kInvalidArgument) {
        return make_error(ErrorCode::kInvalidArgument,
                          "Redis at " + url_.endpoint() +
                              " requires a password: give it in --redis-url "
                              "(redis://:PASSWORD@host:port)");
      }
      return reply.error().with_context("connecting");
    }
  }
  return ok_status();
}

Result<RedisValue> RedisConnection::send_locked(const std::vector<std::string>& argv,
                                                bool& broken) {
  broken = false;
  std::vector<const char*> args;
  std::vector<std::size_t> lengths;
  args.reserve(argv.size());
  lengths.reserve(argv.size());
  for (const auto& arg : argv) {
    args.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  void* raw = nullptr;
  {
    SigpipeGuard guard;
    raw =
        redisCommandArgv(context_->raw, static_cast<int>(args.size()), args.data(), lengths.data());
  }
  auto* reply = static_cast<redisReply*>(raw);
  if (reply == nullptr) {
    broken = true;
    std::string why = context_->raw->err != 0 ? context_->raw->errstr : "no reply";
    context_.reset();
    return make_error(ErrorCode::kNetwork,
                      "Redis at " + url_.endpoint() + " did not answer " + argv[0] + ": " + why);
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    std::string message(reply->str, reply->len);
    freeReplyObject(reply);
    return make_error(error_reply_code(message),
                      "Redis at " + url_.endpoint() + " refused " + argv[0] + ": " + message);
  }
  RedisValue value = convert(reply);
  freeReplyObject(reply);
  return value;
}

Result<RedisValue> RedisConnection::command(const std::vector<std::string>& argv) {
  std::lock_guard lock(mutex_);
  bool fresh = false;
  if (context_ == nullptr) {
    if (auto connected = connect_locked(); !connected) return connected.error();
    fresh = true;
  }
  bool broken = false;
  auto reply = send_locked(argv, broken);
  if (reply || !broken || fresh) return reply;
  // The connection broke (typically the server restarted since the last command): once more on a
  // new one.
  if (auto connected = connect_locked(); !connected) return connected.error();
  return send_locked(argv, broken);
}

}  // namespace lookalike::jobs
