// HttpClientPool: HttpClients (one curl handle and connection cache each) lent to whichever thread
// asks, so that an object shared by many threads (S3Client, SourceFetcher) reuses connections.
// Thread-safety: acquire() may be called from any thread; a Lease belongs to the thread holding it.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "core/http_client.h"

namespace lookalike {

class HttpClientPool {
 public:
  // Gives its client back to the pool when destroyed.
  class Lease {
   public:
    Lease(HttpClientPool* pool, std::unique_ptr<HttpClient> client)
        : pool_(pool), client_(std::move(client)) {}
    ~Lease();
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    HttpClient& operator*() const { return *client_; }
    HttpClient* operator->() const { return client_.get(); }

   private:
    HttpClientPool* pool_;
    std::unique_ptr<HttpClient> client_;
  };

  explicit HttpClientPool(HttpOptions options) : options_(std::move(options)) {}

  // An idle client, or a new one when all are lent out.
  Lease acquire();

 private:
  void give_back(std::unique_ptr<HttpClient> client);

  HttpOptions options_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<HttpClient>> idle_;
};

}  // namespace lookalike
