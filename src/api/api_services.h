// ApiServices: everything the routes work on, wired in apps/ once the model is loaded and the
// stores are open (until then the server answers 503 on every route that needs them).
// Ownership: every pointer is borrowed; the owner keeps them alive until the server stopped.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/embedding_batcher.h"
#include "catalog/catalog.h"
#include "core/result.h"
#include "image/image_decoder.h"
#include "index/vector_index.h"
#include "ingest/image_store.h"
#include "jobs/job_queue.h"
#include "search/index_sync.h"
#include "search/product_searcher.h"
#include "webhooks/webhook_registry.h"

namespace lookalike::api {

struct ApiServices {
  catalog::Catalog* catalog = nullptr;
  index::VectorIndex* index = nullptr;
  search::IndexSync* sync = nullptr;  // serialised internally
  search::ProductSearcher* searcher = nullptr;
  EmbeddingBatcher* embedder = nullptr;
  ingest::ImageStore* images = nullptr;
  jobs::JobQueue* jobs = nullptr;
  WebhookRegistry* webhooks = nullptr;
  // Publishes an event (product.created, ...) to the webhooks; never blocks on the network.
  std::function<void(const std::string& type, const nlohmann::json& data)> publish_event;
  image::DecodeLimits limits;  // uploaded images
  std::string fingerprint;     // the model's
  std::string model_name;      // for /health/ready
};

}  // namespace lookalike::api
