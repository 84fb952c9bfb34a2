// src/api/openapi.json against the real `lookalike serve` (tiny conformance model, SQLite, keys
// set): every operation of the document is called with a minimal valid request and answers a
// status the document lists for it, with a body of the documented schema; bad requests, missing
// and wrong keys get documented errors in the Error shape; unknown paths are JSON 404s. Adding an
// operation to the document without a request here fails EveryOperationAnswersAsDocumented.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "server_process.h"
#include "test_catalogue.h"
#include "test_support.h"

namespace lookalike::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kAdminKey[] = "admin-key-for-openapi-e2e";
constexpr char kSearchKey[] = "search-key-for-openapi-e2e";
const std::set<std::string> kMethods = {"get", "put", "post", "delete", "patch"};

fs::path tiny_model() { return conformance_dir() / "models" / "tiny-p32"; }

json load_document() {
  std::ifstream in(fs::path(LOOKALIKE_SOURCE_DIR) / "src" / "api" / "openapi.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str(), nullptr, false);
}

// One HTTP request. `key` goes in X-API-Key (none when empty).
struct Call {
  std::string method;
  std::string path;  // with the query string
  std::string content_type;
  std::string body;
  std::string key = kAdminKey;
  httplib::Headers headers;
};

Call json_call(std::string method, std::string path, const json& body) {
  return Call{std::move(method), std::move(path), "application/json", body.dump()};
}

// A multipart/form-data body with the file in `file` and text fields.
Call multipart_call(std::string path, const std::string& file_bytes,
                    const std::vector<std::pair<std::string, std::string>>& fields = {},
                    const std::string& file_field = "file") {
  const std::string boundary = "----lookalike-openapi-e2e-7d3f";
  std::string body;
  for (const auto& [name, value] : fields) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" +
            value + "\r\n";
  }
  if (!file_field.empty()) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + file_field +
            "\"; filename=\"query.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n" + file_bytes + "\r\n";
  }
  body += "--" + boundary + "--\r\n";
  return Call{"POST", std::move(path), "multipart/form-data; boundary=" + boundary,
              std::move(body)};
}

struct Answer {
  int status = 0;  // 0: no answer (transport error)
  std::string body;
  httplib::Headers headers;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  json parsed() const { return json::parse(body, nullptr, false); }
};

// The document's view of one operation and a tiny validator for the OpenAPI subset it uses.
class Document {
 public:
  explicit Document(json doc) : doc_(std::move(doc)) {}
  const json& raw() const { return doc_; }

  const json& follow(const json& node) const {
    const json* current = &node;
    for (int i = 0; i < 8 && current->is_object() && current->contains("$ref"); ++i) {
      const json::json_pointer pointer((*current)["$ref"].get<std::string>().substr(1));
      current = &doc_.at(pointer);
    }
    return *current;
  }

  const json* operation(const std::string& path_template, const std::string& method) const {
    auto paths = doc_.find("paths");
    if (paths == doc_.end() || !paths->contains(path_template)) return nullptr;
    const json& item = (*paths)[path_template];
    return item.contains(method) ? &item[method] : nullptr;
  }

  std::set<int> statuses(const json& op) const {
    std::set<int> out;
    for (const auto& [status, response] : op["responses"].items()) out.insert(std::stoi(status));
    return out;
  }

  // Every way `value` breaks `schema` (types, required properties, enums, ranges, nullable,
  // allOf/oneOf, items); extra properties are allowed.
  void validate(const json& schema_or_ref, const json& value, const std::string& where,
                std::vector<std::string>& problems, int depth = 0) const {
    if (depth > 32) return;
    const json& schema = follow(schema_or_ref);
    if (value.is_null()) {
      if (!schema.value("nullable", false) && schema.contains("type")) {
        problems.push_back(where + ": null, but the schema is not nullable");
      }
      return;
    }
    if (schema.contains("allOf")) {
      for (const auto& part : schema["allOf"]) validate(part, value, where, problems, depth + 1);
    }
    if (schema.contains("oneOf")) {
      int matches = 0;
      for (const auto& part : schema["oneOf"]) {
        std::vector<std::string> sub;
        validate(part, value, where, sub, depth + 1);
        if (sub.empty()) ++matches;
      }
      if (matches != 1)
        problems.push_back(where + ": matches " + std::to_string(matches) + " of oneOf");
    }
    const std::string type = schema.value("type", "");
    if (type == "object") {
      if (!value.is_object()) return problems.push_back(where + ": not an object: " + value.dump());
      const json required = schema.value("required", json::array());
      for (const auto& name : required) {
        if (!value.contains(name.get<std::string>())) {
          problems.push_back(where + ": missing required \"" + name.get<std::string>() + "\"");
        }
      }
      const json properties = schema.value("properties", json::object());
      for (const auto& [name, sub] : properties.items()) {
        if (value.contains(name))
          validate(sub, value[name], where + "." + name, problems, depth + 1);
      }
    } else if (type == "array") {
      if (!value.is_array()) return problems.push_back(where + ": not an array");
      if (schema.contains("items")) {
        for (std::size_t i = 0; i < value.size(); ++i) {
          validate(schema["items"], value[i], where + "[" + std::to_string(i) + "]", problems,
                   depth + 1);
        }
      }
    } else if (type == "string") {
      if (!value.is_string()) return problems.push_back(where + ": not a string: " + value.dump());
    } else if (type == "integer") {
      if (!value.is_number_integer()) return problems.push_back(where + ": not an integer");
    } else if (type == "number") {
      if (!value.is_number()) return problems.push_back(where + ": not a number: " + value.dump());
    } else if (type == "boolean") {
      if (!value.is_boolean()) return problems.push_back(where + ": not a boolean");
    }
    if (schema.contains("enum")) {
      bool listed = false;
      for (const auto& allowed : schema["enum"]) listed = listed || allowed == value;
      if (!listed) problems.push_back(where + ": " + value.dump() + " is not in the enum");
    }
    if (value.is_number() && schema.contains("minimum") &&
        value.get<double>() < schema["minimum"].get<double>()) {
      problems.push_back(where + ": " + value.dump() + " under the minimum");
    }
    if (value.is_number() && schema.contains("maximum") &&
        value.get<double>() > schema["maximum"].get<double>()) {
      problems.push_back(where + ": " + value.dump() + " over the maximum");
    }
  }

 private:
  json doc_;
};

std::string media_type(const std::string& content_type) {
  std::string type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type;
}

// Whether `actual` (a Content-Type) is one of the documented media types (image/* matches any
// image).
bool documented_media_type(const json& content, const std::string& actual) {
  const std::string type = media_type(actual);
  for (const auto& [documented, unused] : content.items()) {
    const std::string expected = media_type(documented);
    if (expected == type) return true;
    if (expected.ends_with("/*") && type.starts_with(expected.substr(0, expected.size() - 1))) {
      return true;
    }
  }
  return false;
}

class OpenApiE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    document_ = std::make_unique<Document>(load_document());
    ASSERT_FALSE(document_->raw().is_discarded()) << "src/api/openapi.json does not parse";
    dir_ = std::make_unique<TempDir>();
    data_ = dir_->path() / "data";
    catalogue_ = make_test_catalogue(dir_->path() / "photos", 6, 2, 31);
    auto ingested = run_command({lookalike_binary().string(), "ingest",
                                 (dir_->path() / "photos").string(), "--id-prefix", "cat_",
                                 "--model", tiny_model().string(), "--data-dir", data_.string()});
    ASSERT_EQ(ingested.exit_code, 0) << ingested.err;
    // What the ingest job of the API reads: under DATA/imports, the default --ingest-root.
    make_test_catalogue(data_ / "imports" / "batch", 2, 1, 32);
    server_ = ServerProcess::start(
        {"--model", tiny_model().string(), "--data-dir", data_.string(), "--webhook-allow-private",
         "--rate-limit", "0"},
        {{"LOOKALIKE_ADMIN_API_KEY", kAdminKey}, {"LOOKALIKE_SEARCH_API_KEY", kSearchKey}});
    ASSERT_NE(server_, nullptr);
  }

  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->stop(), 0) << server_->log();
    }
    server_.reset();
    dir_.reset();
    document_.reset();
  }

  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "the server did not start (see the suite's failure)";
  }

  static Answer send(const Call& call) {
    httplib::Client client("127.0.0.1", server_->port());
    client.set_read_timeout(60, 0);
    client.set_write_timeout(60, 0);
    httplib::Request request;
    request.method = call.method;
    request.path = call.path;
    request.headers = call.headers;
    if (!call.key.empty()) request.headers.emplace("X-API-Key", call.key);
    if (!call.content_type.empty()) request.headers.emplace("Content-Type", call.content_type);
    request.body = call.body;
    auto result = client.send(request);
    Answer answer;
    if (!result) return answer;
    answer.status = result->status;
    answer.body = result->body;
    answer.headers = result->headers;
    return answer;
  }

  // Sends `call` to the operation `path_template` `method` and checks the answer against the
  // document: a listed status (one of `expected` when given), the documented media type, the
  // documented schema, X-Request-Id, and the Error shape for every error. Returns the answer.
  static Answer check(const std::string& operation_id, const std::string& path_template,
                      const Call& call, const std::set<int>& expected) {
    const std::string name = operation_id + " (" + call.method + " " + call.path + ")";
    std::string method = call.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const json* op = document_->operation(path_template, method);
    if (op == nullptr) {
      ADD_FAILURE() << name << ": " << method << " " << path_template << " is not in the document";
      return {};
    }
    EXPECT_EQ((*op)["operationId"], operation_id) << name;
    Answer answer = send(call);
    if (answer.status == 0) {
      ADD_FAILURE() << name << ": no answer\n" << server_->log();
      return answer;
    }
    const auto listed = document_->statuses(*op);
    EXPECT_TRUE(listed.contains(answer.status))
        << name << ": answered " << answer.status << ", which the document does not list for "
        << operation_id << "; body: " << answer.body.substr(0, 500);
    if (!expected.empty()) {
      EXPECT_TRUE(expected.contains(answer.status))
          << name << ": answered " << answer.status << "; body: " << answer.body.substr(0, 500);
    }
    EXPECT_NE(answer.status, 500) << name << ": a 500 is a bug\n" << answer.body;
    EXPECT_FALSE(answer.header("X-Request-Id").empty())
        << name << ": no X-Request-Id on a " << answer.status;
    if (answer.status >= 400) {
      const json body = answer.parsed();
      std::vector<std::string> problems;
      document_->validate(json{{"$ref", "#/components/schemas/Error"}}, body, "body", problems);
      EXPECT_TRUE(problems.empty()) << name << ": not the Error shape: " << answer.body;
      EXPECT_TRUE(answer.header("Content-Type").starts_with("application/json")) << name;
    }
    if (!listed.contains(answer.status)) return answer;
    const json& response = document_->follow((*op)["responses"][std::to_string(answer.status)]);
    if (!response.contains("content") || answer.body.empty()) {
      EXPECT_TRUE(response.contains("content") || answer.body.empty())
          << name << ": the document says no body, the server sent " << answer.body.substr(0, 200);
      return answer;
    }
    const json& content = response["content"];
    EXPECT_TRUE(documented_media_type(content, answer.header("Content-Type")))
        << name << ": Content-Type " << answer.header("Content-Type")
        << " is not documented: " << content.dump();
    for (const auto& [type, media] : content.items()) {
      if (!type.starts_with("application/json") || !media.contains("schema")) continue;
      const json body = answer.parsed();
      EXPECT_FALSE(body.is_discarded()) << name << ": not JSON: " << answer.body.substr(0, 200);
      std::vector<std::string> problems;
      document_->validate(media["schema"], body, "body", problems);
      for (const auto& problem : problems) ADD_FAILURE() << name << ": " << problem;
      break;
    }
    return answer;
  }

  static std::string product_external_id(int i) {
    return "cat_" + catalogue_.products[static_cast<std::size_t>(i)].id;
  }
  static std::string image_bytes(int i) {
    return read_bytes(catalogue_.products[static_cast<std::size_t>(i)].images[0]);
  }

  static inline std::unique_ptr<Document> document_;
  static inline std::unique_ptr<TempDir> dir_;
  static inline fs::path data_;
  static inline TestCatalogue catalogue_;
  static inline std::unique_ptr<ServerProcess> server_;
};

// One documented operation's minimal valid request, in the order they run (later ones use what
// earlier ones created).
struct Step {
  std::string operation_id;
  std::string path_template;
  std::function<Call()> call;
  int expected;
  std::function<void(const Answer&)> after = nullptr;
};

TEST_F(OpenApiE2eTest, EveryOperationAnswersAsDocumented) {
  const std::string created = "openapi_e2e_new";
  std::string image_url;
  std::string job_id;
  std::string webhook_id;
  const std::string first = product_external_id(0);
  std::vector<Step> steps = {
      {"getHealth", "/api/v1/health",
       [] {
         return Call{"GET", "/api/v1/health"};
       },
       200},
      {"getReadiness", "/api/v1/health/ready",
       [] {
         return Call{"GET", "/api/v1/health/ready"};
       },
       200},
      {"getMetrics", "/metrics",
       [] {
         return Call{"GET", "/metrics"};
       },
       200,
       [](const Answer& a) {
         EXPECT_NE(a.body.find("lookalike_http_requests_total"), std::string::npos);
       }},
      {"getOpenApi", "/openapi.json",
       [] {
         return Call{"GET", "/openapi.json"};
       },
       200},
      {"getDocs", "/docs",
       [] {
         return Call{"GET", "/docs"};
       },
       200},
      {"getWebPage", "/",
       [] {
         return Call{"GET", "/"};
       },
       200},
      {"searchByText", "/api/v1/search/by-text",
       [] {
         return json_call("POST", "/api/v1/search/by-text", {{"query", "a red bag"}, {"top_k", 3}});
       },
       200},
      {"searchByImage", "/api/v1/search/by-image",
       [] {
         return multipart_call("/api/v1/search/by-image", image_bytes(0), {{"top_k", "3"}});
       },
       200,
       [&](const Answer& a) {
         const json body = a.parsed();
         ASSERT_FALSE(body["results"].empty()) << a.body;
         EXPECT_EQ(body["results"][0]["product"]["external_id"], first);
         image_url = body["results"][0]["image_url"];
       }},
      {"getImage", "/images/{path}",
       [&] {
         return Call{"GET", image_url};
       },
       200, [&](const Answer& a) { EXPECT_EQ(a.body, read_bytes(data_ / image_url.substr(1))); }},
      {"searchByProduct", "/api/v1/search/by-product/{id}",
       [&] {
         return Call{"POST", "/api/v1/search/by-product/" + first + "?top_k=3"};
       },
       200},
      {"listProducts", "/api/v1/products",
       [] {
         return Call{"GET", "/api/v1/products?limit=2"};
       },
       200, [](const Answer& a) { EXPECT_EQ(a.parsed()["total"], 6) << a.body; }},
      {"createProduct", "/api/v1/products",
       [&] {
         return json_call("POST", "/api/v1/products",
                          {{"external_id", created},
                           {"title", "A new product"},
                           {"price", "12.50"},
                           {"currency", "USD"},
                           {"category", "new"},
                           {"metadata", {{"k", "v"}}}});
       },
       201, [](const Answer& a) { EXPECT_FALSE(a.header("Location").empty()); }},
      {"getProduct", "/api/v1/products/{id}",
       [&] {
         return Call{"GET", "/api/v1/products/" + created};
       },
       200},
      {"replaceProduct", "/api/v1/products/{id}",
       [&] {
         return json_call("PUT", "/api/v1/products/" + created,
                          {{"external_id", created}, {"title", "Replaced"}, {"price", 3}});
       },
       200, [](const Answer& a) { EXPECT_EQ(a.parsed()["category"], nullptr) << a.body; }},
      {"updateProduct", "/api/v1/products/{id}",
       [&] {
         return json_call("PATCH", "/api/v1/products/" + created, {{"title", "Patched"}});
       },
       200, [](const Answer& a) { EXPECT_EQ(a.parsed()["title"], "Patched") << a.body; }},
      {"addProductImage", "/api/v1/products/{id}/images",
       [&] { return multipart_call("/api/v1/products/" + created + "/images", image_bytes(1)); },
       201},
      {"deleteProductImage", "/api/v1/products/{id}/images/{position}",
       [&] {
         return Call{"DELETE", "/api/v1/products/" + created + "/images/1"};
       },
       204},
      {"createIngestJob", "/api/v1/jobs/ingest",
       [&] {
         return json_call(
             "POST", "/api/v1/jobs/ingest",
             {{"source", (data_ / "imports" / "batch").string()}, {"id_prefix", "job_"}});
       },
       202, [&](const Answer& a) { job_id = a.parsed().value("id", ""); }},
      {"createReindexJob", "/api/v1/jobs/reindex",
       [] { return json_call("POST", "/api/v1/jobs/reindex", json::object()); }, 202},
      {"listJobs", "/api/v1/jobs",
       [] {
         return Call{"GET", "/api/v1/jobs?limit=5"};
       },
       200},
      {"getJob", "/api/v1/jobs/{id}",
       [&] {
         return Call{"GET", "/api/v1/jobs/" + job_id};
       },
       200},
      {"createWebhook", "/api/v1/webhooks",
       [] {
         return json_call("POST", "/api/v1/webhooks",
                          {{"url", "http://127.0.0.1:9/hook"}, {"events", {"product.created"}}});
       },
       201,
       [&](const Answer& a) {
         webhook_id = a.parsed().value("id", "");
         EXPECT_TRUE(a.parsed().contains("secret")) << a.body;
       }},
      {"listWebhooks", "/api/v1/webhooks",
       [] {
         return Call{"GET", "/api/v1/webhooks"};
       },
       200},
      {"getWebhook", "/api/v1/webhooks/{id}",
       [&] {
         return Call{"GET", "/api/v1/webhooks/" + webhook_id};
       },
       200, [](const Answer& a) { EXPECT_FALSE(a.parsed().contains("secret")) << a.body; }},
      {"listWebhookDeliveries", "/api/v1/webhooks/{id}/deliveries",
       [&] {
         return Call{"GET", "/api/v1/webhooks/" + webhook_id + "/deliveries"};
       },
       200},
      {"deleteWebhook", "/api/v1/webhooks/{id}",
       [&] {
         return Call{"DELETE", "/api/v1/webhooks/" + webhook_id};
       },
       204},
      {"deleteProduct", "/api/v1/products/{id}",
       [&] {
         return Call{"DELETE", "/api/v1/products/" + created};
       },
       204},
  };

  // The steps cover exactly the document's operations.
  std::set<std::string> documented;
  for (const auto& [path, item] : document_->raw()["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      if (kMethods.contains(method)) documented.insert(op["operationId"].get<std::string>());
    }
  }
  std::set<std::string> covered;
  for (const auto& step : steps) covered.insert(step.operation_id);
  EXPECT_EQ(covered, documented) << "every operation of src/api/openapi.json needs a step here";

  for (const auto& step : steps) {
    SCOPED_TRACE(step.operation_id);
    const Answer answer =
        check(step.operation_id, step.path_template, step.call(), {step.expected});
    if (answer.status == step.expected && step.after) step.after(answer);
  }

  // by-image's other documented body: the raw image with the parameters in the query.
  Call raw{"POST", "/api/v1/search/by-image?top_k=2", "image/jpeg", image_bytes(2)};
  Answer answer = check("searchByImage", "/api/v1/search/by-image", raw, {200});
  if (answer.status == 200) {
    EXPECT_EQ(answer.parsed()["results"][0]["product"]["external_id"], product_external_id(2));
    EXPECT_LE(answer.parsed()["results"].size(), 2u);
  }
  raw.content_type = "application/octet-stream";
  check("searchByImage", "/api/v1/search/by-image", raw, {200});
  // The by-text-style JSON body of by-product.
  check("searchByProduct", "/api/v1/search/by-product/{id}",
        json_call("POST", "/api/v1/search/by-product/" + first, {{"top_k", 2}}), {200});
  // Bearer works like X-API-Key.
  Call bearer{"GET", "/api/v1/jobs"};
  bearer.key.clear();
  bearer.headers.emplace("Authorization", std::string("Bearer ") + kAdminKey);
  check("listJobs", "/api/v1/jobs", bearer, {200});
}

TEST_F(OpenApiE2eTest, BadRequestsGetDocumentedErrors) {
  const std::string first = product_external_id(0);
  const std::string image = image_bytes(0);
  struct Probe {
    std::string operation_id;
    std::string path_template;
    Call call;
    std::set<int> expected;
  };
  auto text = [](const json& body) { return json_call("POST", "/api/v1/search/by-text", body); };
  Call malformed{"POST", "/api/v1/search/by-text", "application/json", "{not json"};
  std::vector<Probe> probes = {
      {"searchByText", "/api/v1/search/by-text", malformed, {400}},
      {"searchByText", "/api/v1/search/by-text", text({{"top_k", 3}}), {400}},
      {"searchByText", "/api/v1/search/by-text", text({{"query", "x"}, {"top_k", 0}}), {400}},
      {"searchByText", "/api/v1/search/by-text", text({{"query", "x"}, {"top_k", 1001}}), {400}},
      {"searchByText", "/api/v1/search/by-text", text({{"query", "x"}, {"threshold", 2}}), {400}},
      {"searchByText", "/api/v1/search/by-text", text({{"query", "x"}, {"top_k", "many"}}), {400}},
      {"searchByText",
       "/api/v1/search/by-text",
       text({{"query", "x"}, {"offset", 9995}, {"top_k", 10}}),
       {400}},
      {"searchByText",
       "/api/v1/search/by-text",
       text({{"query", "x"}, {"filters", {{"min_price", -1}}}}),
       {400}},
      {"searchByImage",
       "/api/v1/search/by-image",
       Call{"POST", "/api/v1/search/by-image", "text/plain", "hello"},
       {415}},
      {"searchByImage",
       "/api/v1/search/by-image",
       Call{"POST", "/api/v1/search/by-image", "image/jpeg", image.substr(0, image.size() / 3)},
       {422}},
      {"searchByImage",
       "/api/v1/search/by-image",
       Call{"POST", "/api/v1/search/by-image?top_k=0", "image/jpeg", image},
       {400}},
      {"searchByImage",
       "/api/v1/search/by-image",
       multipart_call("/api/v1/search/by-image", "", {{"top_k", "3"}}, ""),
       {400}},
      {"searchByImage",
       "/api/v1/search/by-image",
       Call{"POST", "/api/v1/search/by-image", "image/jpeg", std::string(21u << 20, 'x')},
       {413}},
      {"searchByProduct",
       "/api/v1/search/by-product/{id}",
       Call{"POST", "/api/v1/search/by-product/no_such_product"},
       {404}},
      {"searchByProduct",
       "/api/v1/search/by-product/{id}",
       Call{"POST", "/api/v1/search/by-product/" + first + "?top_k=-1"},
       {400}},
      {"listProducts", "/api/v1/products", Call{"GET", "/api/v1/products?limit=0"}, {400}},
      {"listProducts", "/api/v1/products", Call{"GET", "/api/v1/products?limit=1001"}, {400}},
      {"listProducts", "/api/v1/products", Call{"GET", "/api/v1/products?offset=-1"}, {400}},
      {"createProduct",
       "/api/v1/products",
       json_call("POST", "/api/v1/products", {{"title", "no id"}}),
       {400}},
      {"createProduct",
       "/api/v1/products",
       json_call("POST", "/api/v1/products", {{"external_id", first}, {"title", "taken"}}),
       {409}},
      {"createProduct",
       "/api/v1/products",
       Call{"POST", "/api/v1/products", "application/json", "[1, 2]"},
       {400}},
      {"getProduct",
       "/api/v1/products/{id}",
       Call{"GET", "/api/v1/products/no_such_product"},
       {404}},
      {"replaceProduct",
       "/api/v1/products/{id}",
       json_call("PUT", "/api/v1/products/no_such_product", {{"external_id", "x"}, {"title", "t"}}),
       {404}},
      {"updateProduct",
       "/api/v1/products/{id}",
       json_call("PATCH", "/api/v1/products/no_such_product", {{"title", "t"}}),
       {404}},
      {"updateProduct",
       "/api/v1/products/{id}",
       json_call("PATCH", "/api/v1/products/" + first, {{"price", "lots"}}),
       {400}},
      {"deleteProduct",
       "/api/v1/products/{id}",
       Call{"DELETE", "/api/v1/products/no_such_product"},
       {404}},
      {"addProductImage",
       "/api/v1/products/{id}/images",
       multipart_call("/api/v1/products/no_such_product/images", image),
       {404}},
      {"addProductImage",
       "/api/v1/products/{id}/images",
       multipart_call("/api/v1/products/" + first + "/images", image.substr(0, image.size() / 3)),
       {422}},
      {"deleteProductImage",
       "/api/v1/products/{id}/images/{position}",
       Call{"DELETE", "/api/v1/products/" + first + "/images/99"},
       {404}},
      {"createIngestJob",
       "/api/v1/jobs/ingest",
       json_call("POST", "/api/v1/jobs/ingest", {{"source", "/etc"}}),
       {400}},
      {"createIngestJob",
       "/api/v1/jobs/ingest",
       json_call("POST", "/api/v1/jobs/ingest", json::object()),
       {400}},
      {"listJobs", "/api/v1/jobs", Call{"GET", "/api/v1/jobs?state=bogus"}, {400}},
      {"getJob", "/api/v1/jobs/{id}", Call{"GET", "/api/v1/jobs/no_such_job"}, {404}},
      {"createWebhook",
       "/api/v1/webhooks",
       json_call("POST", "/api/v1/webhooks",
                 {{"url", "ftp://x/"}, {"events", {"product.created"}}}),
       {400}},
      {"createWebhook",
       "/api/v1/webhooks",
       json_call("POST", "/api/v1/webhooks",
                 {{"url", "http://127.0.0.1:9/"}, {"events", {"nope"}}}),
       {400}},
      {"getWebhook", "/api/v1/webhooks/{id}", Call{"GET", "/api/v1/webhooks/no_such_hook"}, {404}},
      {"deleteWebhook",
       "/api/v1/webhooks/{id}",
       Call{"DELETE", "/api/v1/webhooks/no_such_hook"},
       {404}},
      {"listWebhookDeliveries",
       "/api/v1/webhooks/{id}/deliveries",
       Call{"GET", "/api/v1/webhooks/no_such_hook/deliveries"},
       {404}},
      {"getImage", "/images/{path}", Call{"GET", "/images/no_such_product/image_1.jpg"}, {404}},
      {"getImage", "/images/{path}", Call{"GET", "/images/../catalog.sqlite3"}, {400, 404}},
      {"getImage", "/images/{path}", Call{"GET", "/images/%2e%2e/catalog.sqlite3"}, {400, 404}},
      {"getImage", "/images/{path}", Call{"GET", "/images/..%2fcatalog.sqlite3"}, {400, 404}},
  };
  for (const auto& probe : probes) {
    SCOPED_TRACE(probe.operation_id + " " + probe.call.path);
    check(probe.operation_id, probe.path_template, probe.call, probe.expected);
  }
}

// The path of an operation with every parameter filled with a placeholder.
std::string placeholder_path(const std::string& path_template) {
  return std::regex_replace(path_template, std::regex(R"(\{[^}]+\})"), "1");
}

TEST_F(OpenApiE2eTest, KeysAreRequiredWhereTheDocumentSays) {
  int protected_operations = 0;
  for (const auto& [path_template, item] : document_->raw()["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      if (!kMethods.contains(method)) continue;
      const std::string id = op["operationId"];
      SCOPED_TRACE(id);
      std::string upper = method;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      Call call{upper, placeholder_path(path_template)};
      if (op.contains("requestBody") && op["requestBody"]["content"].contains("application/json")) {
        call.content_type = "application/json";
        call.body = "{}";
      }
      bool anonymous = false;
      for (const auto& requirement : op["security"]) anonymous = anonymous || requirement.empty();
      if (op["security"].empty()) {  // public: a key is never asked for
        call.key.clear();
        const Answer answer = send(call);
        EXPECT_NE(answer.status, 401) << id;
        EXPECT_NE(answer.status, 403) << id;
        continue;
      }
      ++protected_operations;
      // A search key is configured, so every keyed operation needs a key.
      call.key.clear();
      Answer answer = check(id, path_template, call, {401});
      EXPECT_NE(answer.header("WWW-Authenticate").find("Bearer"), std::string::npos) << id;
      call.key = "wrong-key";
      check(id, path_template, call, {401});
      call.key = kSearchKey;
      if (anonymous) {  // a search-key operation: the search key gets past the key check
        answer = send(call);
        EXPECT_NE(answer.status, 401) << id << ": " << answer.body;
        EXPECT_NE(answer.status, 403) << id << ": " << answer.body;
      } else {  // an admin operation: the search key is not enough
        check(id, path_template, call, {403});
      }
    }
  }
  EXPECT_GE(protected_operations, 20);
}

TEST_F(OpenApiE2eTest, UnknownPathsAreJson404sAndOtherMethods405s) {
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/api/v1/nope"},
           {"GET", "/api/v2/products"},
           {"POST", "/nope"},
           {"GET", "/api/v1/products/1/nope"},
           {"GET", "/api/v1/search"},
           {"DELETE", "/api/v1/jobs/ingest/extra"},
           {"GET", "/favicon-that-is-not-there.ico"}}) {
    SCOPED_TRACE(method + " " + path);
    const Answer answer = send(Call{method, path});
    EXPECT_EQ(answer.status, 404) << answer.body;
    const json body = answer.parsed();
    ASSERT_TRUE(body.is_object()) << answer.body;
    EXPECT_EQ(body["error"]["code"], "not_found") << answer.body;
    EXPECT_TRUE(body["error"]["message"].is_string()) << answer.body;
    EXPECT_FALSE(answer.header("X-Request-Id").empty());
  }
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"DELETE", "/api/v1/search/by-text"},
                                                        {"PUT", "/api/v1/health"},
                                                        {"POST", "/api/v1/jobs"}}) {
    SCOPED_TRACE(method + " " + path);
    const Answer answer = send(Call{method, path});
    EXPECT_EQ(answer.status, 405) << answer.body;
    EXPECT_EQ(answer.parsed()["error"]["code"], "method_not_allowed") << answer.body;
    EXPECT_FALSE(answer.header("Allow").empty());
  }
}

TEST_F(OpenApiE2eTest, ServedDocumentIsTheSourceFile) {
  const Answer answer = send(Call{"GET", "/openapi.json"});
  ASSERT_EQ(answer.status, 200);
  EXPECT_EQ(answer.parsed(), document_->raw());
}

}  // namespace
}  // namespace lookalike::testing
