// open_job_queue: the JobQueue the --redis-url flag asks for. The caller owns the queue.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "jobs/job_queue.h"

namespace lookalike::jobs {

// "" → the in-process memory queue; "redis://[:password@]host:port[/db]" (also
// "redis://user:password@host...") → Redis. kInvalidArgument for other schemes, a malformed URL
// or bad options; kNetwork when Redis cannot be reached (the message names host:port, never the
// password); kInvalidArgument when Redis refuses the credentials.
Result<std::unique_ptr<JobQueue>> open_job_queue(const std::string& redis_url,
                                                 const JobQueueOptions& options = {});

// kInvalidArgument naming the option unless lease > 0, max_attempts >= 1 and keep_finished >= 1.
Status validate_job_queue_options(const JobQueueOptions& options);

}  // namespace lookalike::jobs
