// The route groups of the API; each adds its routes to the router. Handlers are thin: parse and
// check the request, call the core (ProductSearcher, ProductService, JobQueue, webhooks), answer.
// Internal to api/.
#pragma once

#include <functional>

#include "api/router.h"
#include "core/metrics_registry.h"

namespace lookalike::api {

void add_search_routes(Router& router);
void add_product_routes(Router& router);
void add_job_routes(Router& router);
void add_webhook_routes(Router& router);
// Health, readiness, metrics, the web page, Swagger UI, OpenAPI and stored images.
// `ready` tells whether the services are set.
void add_ops_routes(Router& router, MetricsRegistry& metrics);

// Absolute image URLs when the server knows its public URL.
std::string public_url_prefix(const ApiConfig& config);

}  // namespace lookalike::api
