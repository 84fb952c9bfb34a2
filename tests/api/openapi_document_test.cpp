// The OpenAPI document served at /openapi.json (src/api/openapi.json), checked as a document:
// it parses, is OpenAPI 3.0.x, every $ref resolves, every operation has an operationId and its
// responses, every error response uses the Error schema, and it covers every route and error
// code of docs/API.md. (tests/apps/openapi_e2e_test.cpp checks it against the running server.)
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lookalike::testing {
namespace {

using nlohmann::json;

const std::filesystem::path kSourceDir = LOOKALIKE_SOURCE_DIR;
const std::set<std::string> kMethods = {"get", "put", "post", "delete", "patch", "head", "options"};

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class OpenApiDocumentTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string text = read_text(kSourceDir / "src" / "api" / "openapi.json");
    ASSERT_FALSE(text.empty()) << "src/api/openapi.json is missing or empty";
    doc_ = json::parse(text, nullptr, /*allow_exceptions=*/false);
    api_md_ = read_text(kSourceDir / "docs" / "API.md");
  }

  // The value `ref` ("#/components/...") points at, or null when it does not resolve.
  static const json* resolve(const std::string& ref) {
    if (!ref.starts_with("#/")) return nullptr;
    try {
      const json::json_pointer pointer(ref.substr(1));
      if (!doc_.contains(pointer)) return nullptr;
      return &doc_.at(pointer);
    } catch (const json::exception&) {
      return nullptr;
    }
  }

  // `node` with a top-level $ref followed (once per level, as OpenAPI allows for responses).
  static const json& follow(const json& node) {
    const json* current = &node;
    for (int depth = 0; depth < 8 && current->is_object() && current->contains("$ref"); ++depth) {
      const json* target = resolve((*current)["$ref"].get<std::string>());
      if (target == nullptr) break;
      current = target;
    }
    return *current;
  }

  // Calls fn(path, method, operation) for every operation.
  template <typename Fn>
  static void for_each_operation(Fn fn) {
    for (const auto& [path, item] : doc_["paths"].items()) {
      for (const auto& [method, operation] : item.items()) {
        if (kMethods.contains(method)) fn(path, method, operation);
      }
    }
  }

  // Whether `schema` is the Error schema, a reference to a schema that is, or an allOf with one.
  static bool uses_error_schema(const json& schema, int depth = 0) {
    if (depth > 8) return false;
    if (schema.contains("$ref")) {
      if (schema["$ref"] == "#/components/schemas/Error") return true;
      const json* target = resolve(schema["$ref"].get<std::string>());
      return target != nullptr && uses_error_schema(*target, depth + 1);
    }
    if (schema.contains("allOf")) {
      for (const auto& part : schema["allOf"]) {
        if (uses_error_schema(part, depth + 1)) return true;
      }
    }
    return false;
  }

  // The (status, code) pairs of docs/API.md's error table: "| 404 | `not_found` | ... |".
  static std::multimap<int, std::string> api_md_error_codes() {
    std::multimap<int, std::string> codes;
    const std::regex row(R"(\|\s*(\d{3})\s*\|\s*`([a-z_]+)`\s*\|)");
    for (std::sregex_iterator it(api_md_.begin(), api_md_.end(), row), end; it != end; ++it) {
      codes.emplace(std::stoi((*it)[1].str()), (*it)[2].str());
    }
    return codes;
  }

  static json doc_;
  static std::string api_md_;
};

json OpenApiDocumentTest::doc_;
std::string OpenApiDocumentTest::api_md_;

void collect_refs(const json& node, const std::string& where,
                  std::vector<std::pair<std::string, std::string>>& refs) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "$ref" && value.is_string()) {
        refs.emplace_back(where, value.get<std::string>());
      } else {
        collect_refs(value, where + "/" + key, refs);
      }
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      collect_refs(node[i], where + "/" + std::to_string(i), refs);
    }
  }
}

TEST_F(OpenApiDocumentTest, ParsesAndIsOpenApi30) {
  ASSERT_FALSE(doc_.is_discarded()) << "src/api/openapi.json is not valid JSON";
  ASSERT_TRUE(doc_.is_object());
  ASSERT_TRUE(doc_.contains("openapi"));
  EXPECT_TRUE(doc_["openapi"].get<std::string>().starts_with("3.0."));
  EXPECT_TRUE(doc_["info"].contains("title"));
  EXPECT_TRUE(doc_["info"].contains("version"));
  ASSERT_TRUE(doc_["paths"].is_object());
  EXPECT_FALSE(doc_["paths"].empty());
}

TEST_F(OpenApiDocumentTest, EveryRefResolves) {
  ASSERT_FALSE(doc_.is_discarded());
  std::vector<std::pair<std::string, std::string>> refs;
  collect_refs(doc_, "", refs);
  EXPECT_GT(refs.size(), 50u);
  for (const auto& [where, ref] : refs) {
    EXPECT_NE(resolve(ref), nullptr) << "unresolved $ref " << ref << " at " << where;
  }
}

TEST_F(OpenApiDocumentTest, EveryOperationHasAUniqueOperationIdResponsesAndDeclaredParameters) {
  ASSERT_FALSE(doc_.is_discarded());
  std::set<std::string> ids;
  int operations = 0;
  for_each_operation([&](const std::string& path, const std::string& method, const json& op) {
    ++operations;
    const std::string name = method + " " + path;
    ASSERT_TRUE(op.contains("operationId")) << name;
    EXPECT_TRUE(ids.insert(op["operationId"].get<std::string>()).second)
        << "duplicate operationId " << op["operationId"] << " at " << name;
    ASSERT_TRUE(op.contains("responses") && op["responses"].is_object()) << name;
    EXPECT_FALSE(op["responses"].empty()) << name;
    bool has_success = false;
    for (const auto& [status, response] : op["responses"].items()) {
      EXPECT_TRUE(std::regex_match(status, std::regex("[1-5][0-9][0-9]")))
          << name << ": status " << status << " (no `default`: statuses are listed one by one)";
      if (status.starts_with("2")) has_success = true;
      EXPECT_TRUE(follow(response).contains("description")) << name << " " << status;
    }
    EXPECT_TRUE(has_success) << name;
    EXPECT_TRUE(op.contains("security")) << name << ": every operation states its security";

    // Every {param} of the path is declared as an `in: path` parameter, and nothing more.
    std::set<std::string> in_template;
    const std::regex param(R"(\{([^}]+)\})");
    for (std::sregex_iterator it(path.begin(), path.end(), param), end; it != end; ++it) {
      in_template.insert((*it)[1].str());
    }
    std::set<std::string> declared;
    const json& item = doc_.at("paths").at(path);
    for (const json* list : std::initializer_list<const json*>{&item, &op}) {
      if (!list->contains("parameters")) continue;
      for (const auto& p : (*list)["parameters"]) {
        const json& parameter = follow(p);
        EXPECT_TRUE(parameter.contains("schema")) << name << ": " << parameter.dump();
        if (parameter["in"] == "path") {
          EXPECT_EQ(parameter["required"], true) << name;
          declared.insert(parameter["name"].get<std::string>());
        }
      }
    }
    EXPECT_EQ(in_template, declared) << name;
  });
  EXPECT_GE(operations, 27);
}

TEST_F(OpenApiDocumentTest, EveryErrorResponseUsesTheErrorSchemaWithACodeOfItsStatus) {
  ASSERT_FALSE(doc_.is_discarded());
  const auto table = api_md_error_codes();
  ASSERT_GE(table.size(), 14u) << "the error table of docs/API.md was not found";
  for_each_operation([&](const std::string& path, const std::string& method, const json& op) {
    for (const auto& [status, ref] : op["responses"].items()) {
      const int code = std::stoi(status);
      if (code < 400) continue;
      const std::string name = method + " " + path + " " + status;
      EXPECT_GT(table.count(code), 0u) << name << ": docs/API.md has no error with this status";
      const json& response = follow(ref);
      ASSERT_TRUE(response.contains("content")) << name;
      bool json_content = false;
      for (const auto& [type, media] : response["content"].items()) {
        if (!type.starts_with("application/json")) continue;
        json_content = true;
        EXPECT_TRUE(uses_error_schema(media["schema"])) << name << ": " << media["schema"].dump();
        if (media.contains("example")) {
          const std::string example_code = media["example"]["error"]["code"];
          bool listed = false;
          for (auto [it, end] = table.equal_range(code); it != end; ++it) {
            listed = listed || it->second == example_code;
          }
          EXPECT_TRUE(listed) << name << ": example code " << example_code;
        }
      }
      EXPECT_TRUE(json_content) << name << ": an error response must be JSON";
    }
  });
}

TEST_F(OpenApiDocumentTest, ErrorSchemaListsEveryCodeOfApiMd) {
  ASSERT_FALSE(doc_.is_discarded());
  const json& error = doc_["components"]["schemas"]["Error"];
  ASSERT_TRUE(error.is_object());
  EXPECT_EQ(error["required"], json::array({"error"}));
  const json& inner = error["properties"]["error"];
  EXPECT_EQ(inner["required"], json::array({"code", "message"}));
  std::set<std::string> in_schema;
  for (const auto& code : inner["properties"]["code"]["enum"]) in_schema.insert(code);
  std::set<std::string> in_api_md;
  for (const auto& [status, code] : api_md_error_codes()) in_api_md.insert(code);
  EXPECT_EQ(in_schema, in_api_md);
}

// Every `METHOD /path` that docs/API.md names is an operation of the document.
TEST_F(OpenApiDocumentTest, CoversEveryRouteOfApiMd) {
  ASSERT_FALSE(doc_.is_discarded());
  const std::regex route(R"(`(GET|POST|PUT|PATCH|DELETE) (/[^`? ]*))");
  int routes = 0;
  for (std::sregex_iterator it(api_md_.begin(), api_md_.end(), route), end; it != end; ++it) {
    ++routes;
    std::string method = (*it)[1].str();
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string path = (*it)[2].str();
    if (path.ends_with("/...")) path = path.substr(0, path.size() - 3) + "{path}";
    EXPECT_TRUE(doc_["paths"].contains(path) && doc_["paths"][path].contains(method))
        << (*it)[0].str() << " of docs/API.md is not in src/api/openapi.json";
  }
  EXPECT_GE(routes, 25);
  // by-image takes both a multipart upload and the raw image as the body.
  const json& by_image = doc_["paths"]["/api/v1/search/by-image"]["post"]["requestBody"]["content"];
  EXPECT_TRUE(by_image.contains("multipart/form-data"));
  EXPECT_TRUE(by_image.contains("image/*"));
  EXPECT_TRUE(by_image.contains("application/octet-stream"));
  EXPECT_TRUE(
      doc_["paths"]["/metrics"]["get"]["responses"]["200"]["content"].begin().key().starts_with(
          "text/plain"));
}

TEST_F(OpenApiDocumentTest, WritesNeedTheAdminKeyAndReadsTheSearchKey) {
  ASSERT_FALSE(doc_.is_discarded());
  const json& schemes = doc_["components"]["securitySchemes"];
  EXPECT_EQ(schemes["ApiKeyHeader"]["type"], "apiKey");
  EXPECT_EQ(schemes["ApiKeyHeader"]["in"], "header");
  EXPECT_EQ(schemes["ApiKeyHeader"]["name"], "X-API-Key");
  EXPECT_EQ(schemes["BearerAuth"]["type"], "http");
  EXPECT_EQ(schemes["BearerAuth"]["scheme"], "bearer");
  for_each_operation([&](const std::string& path, const std::string& method, const json& op) {
    const std::string name = method + " " + path;
    const json& security = op["security"];
    const json& responses = op["responses"];
    if (!path.starts_with("/api/v1/") || path.starts_with("/api/v1/health")) {
      EXPECT_EQ(security, json::array()) << name << " is public";
      return;
    }
    bool anonymous = false;
    std::set<std::string> schemes_used;
    for (const auto& requirement : security) {
      if (requirement.empty()) anonymous = true;
      for (const auto& [scheme, scopes] : requirement.items()) schemes_used.insert(scheme);
    }
    EXPECT_EQ(schemes_used, (std::set<std::string>{"ApiKeyHeader", "BearerAuth"})) << name;
    EXPECT_TRUE(responses.contains("401")) << name;
    EXPECT_TRUE(responses.contains("429")) << name;
    EXPECT_TRUE(responses.contains("503")) << name;
    // The search key (or none, when none is configured) opens search and product reads; every
    // other operation (writes, jobs, webhooks) needs the admin key.
    const bool search_key_op = path.starts_with("/api/v1/search/") ||
                               (path.starts_with("/api/v1/products") && method == "get");
    if (search_key_op) {
      EXPECT_TRUE(anonymous) << name << ": open when no search key is configured";
    } else {
      EXPECT_FALSE(anonymous) << name << ": needs the admin key";
      EXPECT_TRUE(responses.contains("403")) << name;
    }
    if (op.contains("requestBody")) {
      EXPECT_TRUE(responses.contains("413")) << name;
      EXPECT_TRUE(responses.contains("415")) << name;
      EXPECT_TRUE(responses.contains("400")) << name;
    }
  });
}

TEST_F(OpenApiDocumentTest, ParameterRangesFollowApiMd) {
  ASSERT_FALSE(doc_.is_discarded());
  const json& parameters = doc_["components"]["parameters"];
  auto range = [&](const std::string& name) {
    const json& schema = parameters[name]["schema"];
    return std::make_pair(schema.value("minimum", -1e9), schema.value("maximum", 1e9));
  };
  EXPECT_EQ(range("TopK"), std::make_pair(1.0, 1000.0));
  EXPECT_EQ(range("Limit"), std::make_pair(1.0, 1000.0));
  EXPECT_EQ(range("Threshold"), std::make_pair(-1.0, 1.0));
  EXPECT_EQ(range("SearchOffset").first, 0.0);
  EXPECT_EQ(range("Offset").first, 0.0);
  EXPECT_EQ(range("MinPrice").first, 0.0);
  const json& text = doc_["components"]["schemas"]["TextSearchRequest"];
  EXPECT_EQ(text["required"], json::array({"query"}));
  EXPECT_EQ(text["properties"]["top_k"]["minimum"], 1);
  EXPECT_EQ(text["properties"]["top_k"]["maximum"], 1000);
  const json& input = doc_["components"]["schemas"]["ProductInput"];
  EXPECT_EQ(input["required"], json::array({"external_id", "title"}));
  for (const char* schema : {"Product", "ProductInput", "ProductPatch", "Image", "SearchResponse",
                             "SearchResult", "TextSearchRequest", "Job", "JobPage", "Webhook",
                             "WebhookInput", "Delivery", "Error", "ProductPage"}) {
    EXPECT_TRUE(doc_["components"]["schemas"].contains(schema)) << schema;
  }
}

}  // namespace
}  // namespace lookalike::testing
