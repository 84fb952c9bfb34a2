#include "jobs/redis/redis_job_queue.h"

#include <algorithm>
#include <thread>
#include <utility>

namespace lookalike::jobs {

namespace {

using namespace std::chrono_literals;

// Shared by every script: ARGV[1] is the key prefix. Numbers that Redis must read as integers are
// formatted with %d (Lua numbers are doubles).
constexpr const char* kPrelude = R"lua(
if redis.replicate_commands then redis.replicate_commands() end
local p = ARGV[1]
local function jkey(id) return p .. 'job:' .. id end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function set_state(id, new_state)
  local f = redis.call('HMGET', jkey(id), 'state', 'seq')
  redis.call('ZREM', p .. 'jobs:state:' .. f[1], id)
  redis.call('ZADD', p .. 'jobs:state:' .. new_state, f[2], id)
  redis.call('HSET', jkey(id), 'state', new_state)
end
local function finished(id, keep)
  local seq = redis.call('INCR', p .. 'jobs:seq')
  redis.call('ZADD', p .. 'jobs:finished', seq, id)
  redis.call('RPUSH', p .. 'jobs:finished_events', id)
  redis.call('LTRIM', p .. 'jobs:finished_events', string.format('%d', -keep), -1)
  local excess = redis.call('ZCARD', p .. 'jobs:finished') - keep
  if excess > 0 then
    local old = redis.call('ZRANGE', p .. 'jobs:finished', 0, string.format('%d', excess - 1))
    for _, oid in ipairs(old) do
      local state = redis.call('HGET', jkey(oid), 'state')
      if state then redis.call('ZREM', p .. 'jobs:state:' .. state, oid) end
      redis.call('ZREM', p .. 'jobs:all', oid)
      redis.call('ZREM', p .. 'jobs:finished', oid)
      redis.call('DEL', jkey(oid))
    end
  end
end
-- nil when job `id` is running under `worker`, else the reply {-1} (unknown) or {0, state, worker}
local function not_owned(id, worker)
  local f = redis.call('HMGET', jkey(id), 'state', 'worker')
  if not f[1] then return {-1} end
  if f[1] ~= 'running' or f[2] ~= worker then return {0, f[1], f[2] or ''} end
  return nil
end
)lua";

// ARGV: p, id, kind, params, created_at → 1 stored (or already stored by a resent command), 0 id
// taken by another job.
constexpr const char* kSubmit = R"lua(
local id = ARGV[2]
local key = jkey(id)
if redis.call('EXISTS', key) == 1 then
  local f = redis.call('HMGET', key, 'kind', 'params', 'created_at')
  if f[1] == ARGV[3] and f[2] == ARGV[4] and f[3] == ARGV[5] then return 1 end
  return 0
end
local seq = redis.call('INCR', p .. 'jobs:seq')
redis.call('HSET', key, 'id', id, 'kind', ARGV[3], 'params', ARGV[4], 'state', 'queued',
           'progress', '{}', 'result', 'null', 'errors', '[]', 'attempts', 0, 'worker', '',
           'created_at', ARGV[5], 'started_at', '', 'finished_at', '', 'seq', seq)
redis.call('ZADD', p .. 'jobs:all', seq, id)
redis.call('ZADD', p .. 'jobs:state:queued', seq, id)
redis.call('RPUSH', p .. 'jobs:queue', id)
return 1
)lua";

// ARGV: p, start, stop ('' for none), state ('' for all) → {total, hash...}
constexpr const char* kList = R"lua(
local zkey = p .. 'jobs:all'
if ARGV[4] ~= '' then zkey = p .. 'jobs:state:' .. ARGV[4] end
local out = {redis.call('ZCARD', zkey)}
if ARGV[3] ~= '' then
  for _, id in ipairs(redis.call('ZREVRANGE', zkey, ARGV[2], ARGV[3])) do
    out[#out + 1] = redis.call('HGETALL', jkey(id))
  end
end
return out
)lua";

// ARGV: p, worker, lease_ms, max_attempts, now_iso, keep → the claimed job's hash, or nil.
constexpr const char* kClaim = R"lua(
local now = now_ms()
local keep = tonumber(ARGV[6])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'jobs:running', '-inf', now)) do
  redis.call('ZREM', p .. 'jobs:running', id)
  if redis.call('EXISTS', jkey(id)) == 1 then
    local attempts = tonumber(redis.call('HGET', jkey(id), 'attempts'))
    if attempts < tonumber(ARGV[4]) then
      set_state(id, 'queued')
      redis.call('LPUSH', p .. 'jobs:queue', id)
    else
      set_state(id, 'failed')
      redis.call('HSET', jkey(id), 'error', 'worker lost ' .. string.format('%d', attempts) ..
                 ' times', 'finished_at', ARGV[5])
      finished(id, keep)
    end
  end
end
while true do
  local id = redis.call('LPOP', p .. 'jobs:queue')
  if not id then return false end
  if redis.call('EXISTS', jkey(id)) == 1 then
    set_state(id, 'running')
    redis.call('HINCRBY', jkey(id), 'attempts', 1)
    redis.call('HSET', jkey(id), 'worker', ARGV[2], 'started_at', ARGV[5])
    redis.call('ZADD', p .. 'jobs:running', now + tonumber(ARGV[3]), id)
    return redis.call('HGETALL', jkey(id))
  end
end
)lua";

// ARGV: p, id, worker, progress, errors, lease_ms → {1} or not_owned's reply.
constexpr const char* kHeartbeat = R"lua(
local bad = not_owned(ARGV[2], ARGV[3])
if bad then return bad end
redis.call('HSET', jkey(ARGV[2]), 'progress', ARGV[4], 'errors', ARGV[5])
redis.call('ZADD', p .. 'jobs:running', now_ms() + tonumber(ARGV[6]), ARGV[2])
return {1}
)lua";

// ARGV: p, id, worker, state, result, errors, finished_at, keep, has_error, error → {1} or
// not_owned's reply.
constexpr const char* kFinish = R"lua(
local id = ARGV[2]
local bad = not_owned(id, ARGV[3])
if bad then return bad end
redis.call('ZREM', p .. 'jobs:running', id)
set_state(id, ARGV[4])
redis.call('HSET', jkey(id), 'result', ARGV[5], 'errors', ARGV[6], 'finished_at', ARGV[7])
if ARGV[9] == '1' then
  redis.call('HSET', jkey(id), 'error', ARGV[10])
else
  redis.call('HDEL', jkey(id), 'error')
end
finished(id, tonumber(ARGV[8]))
return {1}
)lua";

// ARGV: p, id, worker → {1} or not_owned's reply.
constexpr const char* kRelease = R"lua(
local bad = not_owned(ARGV[2], ARGV[3])
if bad then return bad end
redis.call('ZREM', p .. 'jobs:running', ARGV[2])
set_state(ARGV[2], 'queued')
redis.call('LPUSH', p .. 'jobs:queue', ARGV[2])
return {1}
)lua";

// ARGV: p, max → {hash...}
constexpr const char* kTakeEvents = R"lua(
local out = {}
local max = tonumber(ARGV[2])
while #out < max do
  local id = redis.call('LPOP', p .. 'jobs:finished_events')
  if not id then break end
  local fields = redis.call('HGETALL', jkey(id))
  if #fields > 0 then out[#out + 1] = fields end
end
return out
)lua";

Error corrupt(const std::string& id, const std::string& why) {
  return make_error(ErrorCode::kCorruptData, "job " + id + " in Redis: " + why);
}

Result<nlohmann::json> parse_json_field(const std::string& id, const std::string& field,
                                        const std::string& text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded()) return corrupt(id, "field " + field + " is not JSON");
  return json;
}

// A job from HGETALL's flat [field, value, ...] reply.
Result<Job> job_from_hash(const RedisValue& hash) {
  if (hash.type != RedisValue::Type::kArray || hash.elements.size() % 2 != 0) {
    return corrupt("?", "the hash reply is malformed");
  }
  nlohmann::json json = nlohmann::json::object();
  std::string id = "?";
  for (std::size_t i = 0; i + 1 < hash.elements.size(); i += 2) {
    const std::string& field = hash.elements[i].text;
    const std::string& value = hash.elements[i + 1].text;
    if (field == "id") id = value;
    if (field == "params" || field == "progress" || field == "result" || field == "errors") {
      auto parsed = parse_json_field(id, field, value);
      if (!parsed) return parsed.error();
      json[field] = std::move(*parsed);
    } else if (field == "attempts") {
      try {
        json[field] = std::stoi(value);
      } catch (const std::exception&) {
        return corrupt(id, "attempts is not a number");
      }
    } else if (field != "seq") {
      json[field] = value;
    }
  }
  auto job = job_from_json(json);
  if (!job) return job.error().with_context("job " + id + " in Redis");
  return job;
}

// JSON text for a field; invalid UTF-8 (a file name, a remote message) becomes U+FFFD instead of
// throwing.
std::string to_text(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string errors_json(const std::vector<std::string>& errors) {
  return to_text(nlohmann::json(cap_job_errors(errors)));
}

}  // namespace

RedisJobQueue::RedisJobQueue(std::unique_ptr<RedisConnection> connection, JobQueueOptions options)
    : connection_(std::move(connection)), options_(std::move(options)) {}

Result<RedisValue> RedisJobQueue::eval(const std::string& script,
                                       std::vector<std::string> args) const {
  std::vector<std::string> argv{"EVAL", std::string(kPrelude) + script, "0", options_.key_prefix};
  for (auto& arg : args) argv.push_back(std::move(arg));
  return connection_->command(argv);
}

Status RedisJobQueue::owned_reply(const Result<RedisValue>& reply, const std::string& id,
                                  const std::string& worker_id) const {
  if (!reply) return reply.error();
  const RedisValue& value = *reply;
  if (value.type != RedisValue::Type::kArray || value.elements.empty()) {
    return make_error(ErrorCode::kInternal, "unexpected reply from the job script");
  }
  const std::int64_t code = value.elements[0].integer;
  if (code == 1) return ok_status();
  if (code == -1) return make_error(ErrorCode::kNotFound, "no job \"" + id + "\"");
  const std::string state = value.elements.size() > 1 ? value.elements[1].text : "?";
  const std::string worker = value.elements.size() > 2 ? value.elements[2].text : "";
  return make_error(ErrorCode::kFailedPrecondition,
                    "job " + id + " is no longer running under worker \"" + worker_id +
                        "\" (it is " + state +
                        (worker.empty() ? "" : ", worker \"" + worker + "\"") + ")");
}

Result<Job> RedisJobQueue::submit(const std::string& kind, const nlohmann::json& params) {
  Job job;
  job.kind = kind;
  job.params = params;
  job.created_at = iso8601_utc_now();
  const std::string params_text = to_text(params);
  // A random 64-bit id is taken by another job only by a freak chance: draw again then.
  for (int attempt = 0; attempt < 5; ++attempt) {
    job.id = new_job_id();
    auto reply = eval(kSubmit, {job.id, kind, params_text, job.created_at});
    if (!reply) return reply.error();
    if (reply->integer == 1) return job;
  }
  return make_error(ErrorCode::kInternal, "could not find a free job id");
}

Result<Job> RedisJobQueue::get(const std::string& id) const {
  auto reply = connection_->command({"HGETALL", options_.key_prefix + "job:" + id});
  if (!reply) return reply.error();
  if (reply->elements.empty()) return make_error(ErrorCode::kNotFound, "no job \"" + id + "\"");
  return job_from_hash(*reply);
}

Result<JobPage> RedisJobQueue::list(std::int64_t offset, std::int64_t limit,
                                    std::optional<JobState> state) const {
  if (offset < 0 || limit < 0) {
    return make_error(ErrorCode::kInvalidArgument, "offset and limit must not be negative");
  }
  // Redis ranges are int64: keep offset + limit from overflowing.
  constexpr std::int64_t kMax = std::int64_t{1} << 52;
  offset = std::min(offset, kMax);
  limit = std::min(limit, kMax);
  auto reply =
      eval(kList, {std::to_string(offset), limit == 0 ? "" : std::to_string(offset + limit - 1),
                   state ? std::string(job_state_name(*state)) : ""});
  if (!reply) return reply.error();
  if (reply->type != RedisValue::Type::kArray || reply->elements.empty()) {
    return make_error(ErrorCode::kInternal, "unexpected reply from the list script");
  }
  JobPage page;
  page.total = reply->elements[0].integer;
  for (std::size_t i = 1; i < reply->elements.size(); ++i) {
    if (reply->elements[i].elements.empty()) continue;  // dropped between the two reads
    auto job = job_from_hash(reply->elements[i]);
    if (!job) return job.error();
    page.items.push_back(std::move(*job));
  }
  return page;
}

Result<std::optional<Job>> RedisJobQueue::claim(const std::string& worker_id,
                                                std::chrono::milliseconds wait) {
  // Clamped so that a huge `wait` cannot overflow the clock.
  const auto deadline = std::chrono::steady_clock::now() +
                        std::clamp<std::chrono::milliseconds>(wait, 0ms, std::chrono::hours(24));
  while (true) {
    auto reply = eval(kClaim, {worker_id, std::to_string(options_.lease.count()),
                               std::to_string(options_.max_attempts), iso8601_utc_now(),
                               std::to_string(options_.keep_finished)});
    if (!reply) return reply.error();
    if (!reply->is_nil()) {
      auto job = job_from_hash(*reply);
      if (!job) return job.error();
      return std::optional<Job>(std::move(*job));
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::optional<Job>();
    // Polling: no lock is held while sleeping, so other threads use the connection meanwhile.
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(100ms, deadline - now));
  }
}

Status RedisJobQueue::heartbeat(const std::string& id, const std::string& worker_id,
                                const nlohmann::json& progress,
                                const std::vector<std::string>& errors) {
  return owned_reply(eval(kHeartbeat, {id, worker_id, to_text(progress), errors_json(errors),
                                       std::to_string(options_.lease.count())}),
                     id, worker_id);
}

Status RedisJobQueue::finish(const std::string& id, const std::string& worker_id, JobState state,
                             const nlohmann::json& result, const std::optional<std::string>& error,
                             const std::vector<std::string>& errors) {
  if (!is_finished(state)) {
    return make_error(ErrorCode::kInvalidArgument, "a job finishes as completed or failed, not " +
                                                       std::string(job_state_name(state)));
  }
  return owned_reply(
      eval(kFinish, {id, worker_id, std::string(job_state_name(state)), to_text(result),
                     errors_json(errors), iso8601_utc_now(), std::to_string(options_.keep_finished),
                     error ? "1" : "0", error.value_or("")}),
      id, worker_id);
}

Status RedisJobQueue::release(const std::string& id, const std::string& worker_id) {
  return owned_reply(eval(kRelease, {id, worker_id}), id, worker_id);
}

Result<std::vector<Job>> RedisJobQueue::take_finished_events(int max) {
  std::vector<Job> taken;
  if (max <= 0) return taken;
  auto reply = eval(kTakeEvents, {std::to_string(max)});
  if (!reply) return reply.error();
  for (const auto& hash : reply->elements) {
    auto job = job_from_hash(hash);
    // Already taken off the list: a corrupt record is skipped rather than failing the batch.
    if (job) taken.push_back(std::move(*job));
  }
  return taken;
}

Status RedisJobQueue::ping() const {
  auto reply = connection_->command({"PING"});
  if (!reply) return reply.error();
  return ok_status();
}

}  // namespace lookalike::jobs
