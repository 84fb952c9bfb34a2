#include "ingest/s3/s3_client.h"

#include <pugixml.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <utility>

namespace lookalike::ingest {

namespace {

// AWS's URI encoding (SigV4 and S3 alike): A-Z a-z 0-9 - _ . ~ stay, every other byte of the
// UTF-8 text is %XY with upper-case hex; '/' stays in object paths, where S3 encodes each segment.
std::string aws_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

std::string strip_quotes(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return etag;
}

std::string_view trim_slashes(std::string_view text) {
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  return text;
}

bool valid_bucket(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (!alnum(bucket.front()) || !alnum(bucket.back())) return false;
  return std::all_of(bucket.begin(), bucket.end(),
                     [&](char c) { return alnum(c) || c == '.' || c == '-' || c == '_'; });
}

// The error S3 describes in its XML body (<Error><Code>NoSuchKey</Code><Message>...), or one made
// from the status when the body is not S3's (HEAD, a proxy's page).
Error s3_error(const HttpResponse& response, const std::string& what) {
  pugi::xml_document doc;
  std::string code;
  std::string message;
  std::string endpoint;
  if (doc.load_buffer(response.body.data(), response.body.size())) {
    auto error = doc.child("Error");
    code = error.child_value("Code");
    message = error.child_value("Message");
    endpoint = error.child_value("Endpoint");
  }
  auto error_code = ErrorCode::kNetwork;
  if (code == "NoSuchKey" || code == "NoSuchBucket" || (code.empty() && response.status == 404)) {
    error_code = ErrorCode::kNotFound;
  } else if (code == "AccessDenied" || code == "SignatureDoesNotMatch" ||
             code == "InvalidAccessKeyId" || code == "InvalidToken" || code == "ExpiredToken" ||
             code == "TokenRefreshRequired" || code == "AuthorizationHeaderMalformed" ||
             code == "RequestTimeTooSkewed" || code == "PermanentRedirect" ||
             code == "AllAccessDisabled" || code == "AccountProblem" ||
             (code.empty() && (response.status == 403 || response.status == 301))) {
    error_code = ErrorCode::kFailedPrecondition;  // retrying with the same settings will not help
  } else if (code == "InvalidArgument" || code == "InvalidBucketName" || code == "KeyTooLong") {
    error_code = ErrorCode::kInvalidArgument;
  }
  std::string text = what + ": ";
  text += code.empty() ? "HTTP " + std::to_string(response.status)
                       : code + ": " + message + " (HTTP " + std::to_string(response.status) + ")";
  if (!endpoint.empty()) text += "; the bucket must be addressed through " + endpoint;
  return make_error(error_code, std::move(text));
}

std::string s3_name(const std::string& bucket, const std::string& key) {
  return "s3://" + bucket + "/" + key;
}

}  // namespace

Result<S3Credentials> s3_credentials_from_environment() {
  auto read = [](const char* name) {
    const char* value = std::getenv(name);
    return std::string(value != nullptr ? value : "");
  };
  S3Credentials credentials{read("AWS_ACCESS_KEY_ID"), read("AWS_SECRET_ACCESS_KEY"),
                            read("AWS_SESSION_TOKEN")};
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "S3 needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                      "(and AWS_SESSION_TOKEN for temporary ones)");
  }
  return credentials;
}

Result<S3Uri> parse_s3_uri(std::string_view uri) {
  constexpr std::string_view kScheme = "s3://";
  const std::string quoted = std::string("'").append(uri).append("'");
  if (!uri.starts_with(kScheme)) {
    return make_error(ErrorCode::kInvalidArgument,
                      quoted + " is not an S3 URI (s3://bucket/prefix)");
  }
  std::string_view rest = uri.substr(kScheme.size());
  auto slash = rest.find('/');
  S3Uri parsed;
  parsed.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) parsed.key = std::string(rest.substr(slash + 1));
  if (!valid_bucket(parsed.bucket)) {
    return make_error(ErrorCode::kInvalidArgument,
                      quoted + ": '" + parsed.bucket +
                          "' is not a bucket name (3 to 63 letters, digits, '.', '-' or '_')");
  }
  return parsed;
}

S3Client::S3Client(S3ClientOptions options) : options_(std::move(options)), pool_(options_.http) {}

std::string S3Client::object_url(const std::string& bucket, const std::string& key) const {
  std::string path = std::string("/").append(aws_encode(key, true));
  if (!options_.endpoint.empty()) {
    return std::string(trim_slashes(options_.endpoint)) + "/" + bucket + path;
  }
  std::string host = "s3." + options_.region + ".amazonaws.com";
  if (options_.force_path_style || bucket.find('.') != std::string::npos) {
    return "https://" + host + "/" + bucket + path;
  }
  return "https://" + bucket + "." + host + path;
}

Result<HttpResponse> S3Client::send(const std::string& url, std::size_t max_bytes,
                                    std::vector<std::pair<std::string, std::string>> headers) {
  HttpRequest request;
  request.url = url;
  request.headers = std::move(headers);
  request.max_body_bytes = max_bytes;
  request.sigv4 =
      AwsSigV4{options_.credentials.access_key_id, options_.credentials.secret_access_key,
               options_.credentials.session_token, options_.region, "s3"};
  auto client = pool_.acquire();
  return client->request_with_retries(request, options_.retry);
}

Status S3Client::list_objects(const std::string& bucket, const std::string& prefix,
                              const S3PageFn& on_page) {
  const std::string what = s3_name(bucket, prefix);
  const int max_keys = std::clamp(options_.max_keys, 1, 1000);
  std::string token;
  for (bool first = true; first || !token.empty(); first = false) {
    // Parameters sorted and encoded as SigV4 canonicalises them (libcurl signs them as written).
    std::string query;
    if (!token.empty()) query += "continuation-token=" + aws_encode(token, false) + "&";
    query += "list-type=2&max-keys=" + std::to_string(max_keys);
    if (!prefix.empty()) query += "&prefix=" + aws_encode(prefix, false);
    // A page of 1000 keys of up to 1 KiB each is about 1.5 MB of XML.
    auto response = send(object_url(bucket, "") + "?" + query, 16u << 20, {});
    if (!response.ok()) return response.error().with_context(what);
    if (response->status != 200) return s3_error(*response, what);

    pugi::xml_document doc;
    auto parsed = doc.load_buffer(response->body.data(), response->body.size());
    auto result = doc.child("ListBucketResult");
    if (!parsed || !result) {
      return make_error(ErrorCode::kCorruptData,
                        what + ": the ListObjectsV2 answer is not a ListBucketResult (" +
                            (parsed ? "unexpected root" : parsed.description()) + ")");
    }
    std::vector<S3ObjectInfo> page;
    for (auto contents : result.children("Contents")) {
      S3ObjectInfo info;
      info.key = contents.child_value("Key");
      std::string_view size = contents.child_value("Size");
      auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), info.size);
      if (info.key.empty() || ec != std::errc() || end != size.data() + size.size()) {
        return make_error(ErrorCode::kCorruptData,
                          what + ": a listed object has no key or no valid size");
      }
      info.etag = strip_quotes(contents.child_value("ETag"));
      info.last_modified = contents.child_value("LastModified");
      page.push_back(std::move(info));
    }
    bool truncated = std::string_view(result.child_value("IsTruncated")) == "true";
    token = truncated ? result.child_value("NextContinuationToken") : "";
    if (truncated && token.empty()) {
      return make_error(ErrorCode::kCorruptData,
                        what + ": a truncated listing came without a NextContinuationToken");
    }
    if (auto status = on_page(page); !status.ok()) return status;
  }
  return ok_status();
}

Result<S3ObjectData> S3Client::get_object(const std::string& bucket, const std::string& key,
                                          std::size_t max_bytes, const std::string& if_none_match) {
  const std::string what = s3_name(bucket, key);
  if (key.empty()) {
    return make_error(ErrorCode::kInvalidArgument, what + ": an object needs a key");
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (!if_none_match.empty()) {
    std::string quoted = std::string("\"").append(strip_quotes(if_none_match)).append("\"");
    headers.emplace_back("If-None-Match", std::move(quoted));
  }
  auto response = send(object_url(bucket, key), max_bytes, std::move(headers));
  if (!response.ok()) return response.error().with_context(what);
  S3ObjectData data;
  auto etag = response->headers.find("etag");
  if (etag != response->headers.end()) data.etag = strip_quotes(etag->second);
  if (response->status == 304) {
    data.not_modified = true;
    return data;
  }
  if (response->status != 200) return s3_error(*response, what);
  data.bytes = std::move(response->body);
  return data;
}

}  // namespace lookalike::ingest
