#include "core/http_client_pool.h"

namespace lookalike {

HttpClientPool::Lease::~Lease() {
  if (client_ != nullptr) pool_->give_back(std::move(client_));
}

HttpClientPool::Lease HttpClientPool::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto client = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(client));
    }
  }
  return Lease(this, std::make_unique<HttpClient>(options_));
}

void HttpClientPool::give_back(std::unique_ptr<HttpClient> client) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(client));
}

}  // namespace lookalike
