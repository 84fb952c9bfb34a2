#include "jobs/job_queue_factory.h"

#include "jobs/memory/memory_job_queue.h"
#include "jobs/redis/redis_connection.h"
#include "jobs/redis/redis_job_queue.h"
#include "jobs/redis/redis_url.h"

namespace lookalike::jobs {

Status validate_job_queue_options(const JobQueueOptions& options) {
  if (options.lease.count() <= 0) {
    return make_error(ErrorCode::kInvalidArgument, "the job lease must be positive");
  }
  if (options.max_attempts < 1) {
    return make_error(ErrorCode::kInvalidArgument, "max_attempts must be at least 1");
  }
  if (options.keep_finished < 1) {
    return make_error(ErrorCode::kInvalidArgument, "keep_finished must be at least 1");
  }
  return ok_status();
}

Result<std::unique_ptr<JobQueue>> open_job_queue(const std::string& redis_url,
                                                 const JobQueueOptions& options) {
  if (auto valid = validate_job_queue_options(options); !valid) return valid.error();
  if (redis_url.empty()) {
    return std::unique_ptr<JobQueue>(std::make_unique<MemoryJobQueue>(options));
  }
  auto url = parse_redis_url(redis_url);
  if (!url) return url.error();
  auto connection = RedisConnection::open(*url);
  if (!connection) return connection.error();
  return std::unique_ptr<JobQueue>(
      std::make_unique<RedisJobQueue>(std::move(connection).value(), options));
}

}  // namespace lookalike::jobs
