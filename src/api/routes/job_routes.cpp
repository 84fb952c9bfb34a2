// /api/v1/jobs: ingest and reindex jobs (the seed's Celery tasks) submitted, read and listed.
#include <filesystem>
#include <set>

#include "api/request_parsing.h"
#include "api/routes/routes.h"
#include "jobs/job.h"

namespace lookalike::api {

namespace {

namespace fs = std::filesystem;

Error invalid(const std::string& message) {
  return make_error(ErrorCode::kInvalidArgument, message);
}

// A local source must resolve (symlinks included) to a path under the ingest root, so an API
// caller cannot make the server read arbitrary files.
Result<std::string> confined_source(const std::string& source, const std::string& ingest_root) {
  if (source.starts_with("s3://")) return source;
  if (source.find("://") != std::string::npos) {
    return invalid("source: must be s3://bucket/prefix or a path under the ingest root");
  }
  if (ingest_root.empty()) return invalid("source: local sources are disabled (no ingest root)");
  std::error_code error;
  fs::path root = fs::weakly_canonical(ingest_root, error);
  if (error) return invalid("source: the ingest root cannot be resolved");
  fs::path path = fs::path(source).is_absolute() ? fs::path(source) : root / source;
  path = fs::weakly_canonical(path, error);
  auto [root_end, path_it] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  if (error || root_end != root.end()) {
    return invalid("source: must lie under the ingest root " + root.string());
  }
  if (!fs::exists(path, error)) return invalid("source: " + path.string() + " does not exist");
  return path.string();
}

Result<nlohmann::json> ingest_params(const nlohmann::json& body, const ApiConfig& config) {
  static const std::set<std::string> kAllowed{"source",      "id_prefix", "concurrency", "batch",
                                              "s3_endpoint", "s3_region", "max_image_mb"};
  for (const auto& [key, value] : body.items()) {
    if (!kAllowed.contains(key)) return invalid("unknown field \"" + key + "\"");
  }
  if (!body.contains("source") || !body["source"].is_string() ||
      body["source"].get<std::string>().empty()) {
    return invalid("source: required, a string");
  }
  auto source = confined_source(body["source"].get<std::string>(), config.ingest_root);
  if (!source) return source.error();
  nlohmann::json params = {{"source", *source}};
  for (const char* key : {"id_prefix", "s3_endpoint", "s3_region"}) {
    if (!body.contains(key) || body[key].is_null()) continue;
    if (!body[key].is_string()) return invalid(std::string(key) + ": must be a string");
    params[key] = body[key];
  }
  struct Range {
    const char* key;
    double min, max;
  };
  for (auto [key, min, max] :
       {Range{"concurrency", 1, 64}, Range{"batch", 1, 256}, Range{"max_image_mb", 0.001, 1024}}) {
    if (!body.contains(key) || body[key].is_null()) continue;
    if (!body[key].is_number() || body[key].get<double>() < min || body[key].get<double>() > max) {
      return invalid(std::string(key) + ": must be a number between " + nlohmann::json(min).dump() +
                     " and " + nlohmann::json(max).dump());
    }
    params[key] = body[key];
  }
  return params;
}

void submit(RouteContext& ctx, const std::string& kind, const nlohmann::json& params) {
  auto job = ctx.services->jobs->submit(kind, params);
  if (!job) return send_error(ctx.response, http_error_for(job.error()));
  ctx.response.set_header("Location", "/api/v1/jobs/" + job->id);
  send_json(ctx.response, 202, jobs::job_to_json(*job));
}

void submit_ingest(RouteContext& ctx) {
  auto body = parse_json_object(ctx.request.body);
  if (!body) return send_error(ctx.response, request_http_error_for(body.error()));
  auto params = ingest_params(*body, ctx.config);
  if (!params) return send_error(ctx.response, request_http_error_for(params.error()));
  submit(ctx, "ingest", *params);
}

void submit_reindex(RouteContext& ctx) {
  auto body = parse_json_object(ctx.request.body, true);
  if (!body) return send_error(ctx.response, request_http_error_for(body.error()));
  for (const auto& [key, value] : body->items()) {
    if (key != "re_embed") {
      return send_error(ctx.response,
                        make_http_error(400, "invalid_argument", "unknown field \"" + key + "\""));
    }
  }
  bool re_embed = false;
  if (body->contains("re_embed")) {
    if (!(*body)["re_embed"].is_boolean()) {
      return send_error(ctx.response,
                        make_http_error(400, "invalid_argument", "re_embed: must be a boolean"));
    }
    re_embed = (*body)["re_embed"].get<bool>();
  }
  submit(ctx, "reindex", {{"re_embed", re_embed}});
}

void get_job(RouteContext& ctx) {
  auto job = ctx.services->jobs->get(ctx.params[0]);
  if (!job) return send_error(ctx.response, http_error_for(job.error()));
  send_json(ctx.response, 200, jobs::job_to_json(*job));
}

void list_jobs(RouteContext& ctx) {
  FieldLookup fields = [&](const std::string& name) -> std::optional<std::string> {
    if (!ctx.request.has_param(name)) return std::nullopt;
    return ctx.request.get_param_value(name);
  };
  auto offset = int_field(fields, "offset", 0, 0, std::int64_t{1} << 40);
  if (!offset) return send_error(ctx.response, request_http_error_for(offset.error()));
  auto limit = int_field(fields, "limit", 20, 1, 1000);
  if (!limit) return send_error(ctx.response, request_http_error_for(limit.error()));
  std::optional<jobs::JobState> state;
  if (auto text = fields("state")) {
    auto parsed = jobs::parse_job_state(*text);
    if (!parsed) return send_error(ctx.response, request_http_error_for(parsed.error()));
    state = *parsed;
  }
  auto page = ctx.services->jobs->list(*offset, *limit, state);
  if (!page) return send_error(ctx.response, http_error_for(page.error()));
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  for (const auto& job : page->items) items.push_back(jobs::job_to_json(job));
  send_json(ctx.response, 200, {{"items", std::move(items)}, {"total", page->total}});
}

}  // namespace

void add_job_routes(Router& router) {
  // Job records name sources (paths, buckets): reading them is for the admin too.
  router.add("POST", "/api/v1/jobs/ingest", Access::kAdmin, submit_ingest);
  router.add("POST", "/api/v1/jobs/reindex", Access::kAdmin, submit_reindex);
  router.add("GET", "/api/v1/jobs", Access::kAdmin, list_jobs);
  router.add("GET", "/api/v1/jobs/{id}", Access::kAdmin, get_job);
}

}  // namespace lookalike::api
