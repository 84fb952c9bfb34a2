#include "ingest/source/manifest_source.h"

#include <csv.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <vector>

#include "ingest/source/price_parser.h"

namespace lookalike::ingest {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxLineBytes = 16 << 20;
const char* const kKnownFields[] = {"external_id", "title",    "description", "category",
                                    "price",       "currency", "images",      "metadata"};

bool is_known_field(const std::string& name) {
  return std::find(std::begin(kKnownFields), std::end(kKnownFields), name) !=
         std::end(kKnownFields);
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// A string field that may be absent or null; other JSON types are an error.
Result<std::string> text_field(const nlohmann::json& row, const char* name) {
  auto it = row.find(name);
  if (it == row.end() || it->is_null()) return std::string();
  if (it->is_string()) return trim(it->get<std::string>());
  if (it->is_number()) return it->dump();
  return make_error(ErrorCode::kInvalidArgument, std::string(name) + " must be a string");
}

// Collects libcsv's callbacks into rows.
struct CsvRows {
  std::vector<std::string> fields;
  std::vector<std::vector<std::string>> rows;
};

void on_csv_field(void* data, std::size_t length, void* user) {
  auto* rows = static_cast<CsvRows*>(user);
  rows->fields.emplace_back(data == nullptr ? "" : static_cast<const char*>(data), length);
}

void on_csv_row(int, void* user) {
  auto* rows = static_cast<CsvRows*>(user);
  rows->rows.push_back(std::move(rows->fields));
  rows->fields.clear();
}

}  // namespace

ManifestSource::ManifestSource(fs::path file, Format format, std::string id_prefix)
    : file_(std::move(file)), format_(format), id_prefix_(std::move(id_prefix)) {}

Result<ManifestSource::Format> ManifestSource::format_for(const fs::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".csv") return Format::kCsv;
  if (ext == ".jsonl" || ext == ".ndjson" || ext == ".json") return Format::kJsonLines;
  return make_error(ErrorCode::kInvalidArgument,
                    file.string() + ": a manifest must end in .csv, .jsonl, .ndjson or .json");
}

std::string ManifestSource::description() const {
  return (format_ == Format::kCsv ? "CSV manifest " : "JSON Lines manifest ") + file_.string();
}

Status ManifestSource::scan(const SourceVisitor& visitor) {
  return format_ == Format::kCsv ? scan_csv(visitor) : scan_json_lines(visitor);
}

std::string ManifestSource::resolve_reference(const std::string& reference) const {
  if (reference.starts_with("http://") || reference.starts_with("https://") ||
      reference.starts_with("s3://")) {
    return reference;
  }
  fs::path path(reference);
  if (path.is_relative()) path = fs::absolute(file_).parent_path() / path;
  return path.lexically_normal().string();
}

Result<SourceProduct> ManifestSource::build(const nlohmann::json& row,
                                            const std::string& location) {
  SourceProduct product;
  product.location = location;
  auto external_id = text_field(row, "external_id");
  if (!external_id) return external_id.error();
  if (external_id->empty()) {
    return make_error(ErrorCode::kInvalidArgument, "external_id is missing");
  }
  product.external_id = id_prefix_ + *external_id;
  for (auto [name, out] :
       {std::pair{"title", &product.title}, std::pair{"description", &product.description},
        std::pair{"category", &product.category}, std::pair{"currency", &product.currency}}) {
    auto value = text_field(row, name);
    if (!value) return value.error();
    *out = std::move(*value);
  }
  if (product.title.empty()) product.title = product.external_id;
  auto price_text = text_field(row, "price");
  if (!price_text) return price_text.error();
  auto price = parse_price_cents(*price_text);
  if (!price) return price.error();
  product.price_cents = *price;

  auto images = row.find("images");
  std::vector<std::string> references;
  if (images != row.end() && images->is_array()) {
    for (const auto& image : *images) {
      if (!image.is_string()) {
        return make_error(ErrorCode::kInvalidArgument, "images must be a list of strings");
      }
      references.push_back(trim(image.get<std::string>()));
    }
  } else if (images != row.end() && images->is_string()) {
    std::string list = images->get<std::string>();
    for (std::size_t start = 0; start <= list.size();) {
      std::size_t end = std::min(list.find(';', start), list.size());
      references.push_back(trim(std::string_view(list).substr(start, end - start)));
      start = end + 1;
    }
  } else if (images != row.end() && !images->is_null()) {
    return make_error(ErrorCode::kInvalidArgument, "images must be a list or a ';' list");
  }
  std::erase_if(references, [](const std::string& r) { return r.empty(); });
  if (references.empty()) return make_error(ErrorCode::kInvalidArgument, "no images");
  for (const auto& reference : references) {
    product.images.push_back({resolve_reference(reference), "", -1});
  }

  product.metadata = nlohmann::json::object();
  if (auto metadata = row.find("metadata"); metadata != row.end() && !metadata->is_null()) {
    if (!metadata->is_object()) {
      return make_error(ErrorCode::kInvalidArgument, "metadata must be a JSON object");
    }
    product.metadata = *metadata;
  }
  for (const auto& [key, value] : row.items()) {
    if (!is_known_field(key)) product.metadata[key] = value;
  }
  if (!seen_ids_.insert(product.external_id).second) {
    return make_error(ErrorCode::kAlreadyExists,
                      "external_id " + product.external_id + " appears earlier in the manifest");
  }
  return product;
}

Status ManifestSource::scan_csv(const SourceVisitor& visitor) {
  std::ifstream in(file_, std::ios::binary);
  if (!in) return make_error(ErrorCode::kNotFound, file_.string() + ": cannot open the manifest");
  csv_parser parser;
  if (csv_init(&parser, 0) != 0) return make_error(ErrorCode::kInternal, "csv_init failed");
  CsvRows rows;
  std::vector<std::string> header;
  std::int64_t row_number = 0;
  std::string name = file_.filename().string();
  bool stopped = false;
  bool first_chunk = true;
  std::vector<char> buffer(1 << 16);
  auto drain = [&]() -> Status {
    for (auto& fields : rows.rows) {
      ++row_number;
      if (header.empty()) {
        header = std::move(fields);
        for (auto& column : header) column = trim(column);
        if (std::find(header.begin(), header.end(), "external_id") == header.end() ||
            std::find(header.begin(), header.end(), "images") == header.end()) {
          return make_error(
              ErrorCode::kInvalidArgument,
              file_.string() + ": the header must name at least external_id and images");
        }
        continue;
      }
      std::string location = name + ":" + std::to_string(row_number);
      if (stopped) continue;
      if (fields.size() != header.size()) {
        visitor.on_problem({location, "",
                            "row has " + std::to_string(fields.size()) + " fields, header has " +
                                std::to_string(header.size())});
        continue;
      }
      nlohmann::json row = nlohmann::json::object();
      for (std::size_t i = 0; i < header.size(); ++i) row[header[i]] = fields[i];
      auto product = build(row, location);
      if (!product) {
        visitor.on_problem({location, row.value("external_id", ""), product.error().message});
      } else if (!visitor.on_product(std::move(*product))) {
        stopped = true;
      }
    }
    rows.rows.clear();
    return ok_status();
  };
  Status status;
  while (status && !stopped && in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    std::size_t got = static_cast<std::size_t>(in.gcount());
    const char* data = buffer.data();
    if (first_chunk && got >= 3 && std::string_view(data, 3) == "\xEF\xBB\xBF") {
      data += 3;  // UTF-8 byte order mark
      got -= 3;
    }
    first_chunk = false;
    if (csv_parse(&parser, data, got, on_csv_field, on_csv_row, &rows) != got) {
      status = make_error(ErrorCode::kCorruptData,
                          file_.string() + ": " + csv_strerror(csv_error(&parser)));
      break;
    }
    status = drain();
  }
  if (status) {
    csv_fini(&parser, on_csv_field, on_csv_row, &rows);
    status = drain();
  }
  csv_free(&parser);
  if (status && header.empty()) {
    return make_error(ErrorCode::kInvalidArgument, file_.string() + ": the manifest is empty");
  }
  return status;
}

Status ManifestSource::scan_json_lines(const SourceVisitor& visitor) {
  std::ifstream in(file_, std::ios::binary);
  if (!in) return make_error(ErrorCode::kNotFound, file_.string() + ": cannot open the manifest");
  std::string name = file_.filename().string();
  std::string line;
  std::int64_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    std::string location = name + ":" + std::to_string(line_number);
    if (line_number == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
    if (trim(line).empty()) continue;
    if (line.size() > kMaxLineBytes) {
      visitor.on_problem({location, "", "line longer than 16 MiB"});
      continue;
    }
    auto row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (row.is_discarded() || !row.is_object()) {
      visitor.on_problem({location, "", "not a JSON object"});
      continue;
    }
    auto product = build(row, location);
    if (!product) {
      std::string id = row.contains("external_id") && row["external_id"].is_string()
                           ? row["external_id"].get<std::string>()
                           : "";
      visitor.on_problem({location, id, product.error().message});
    } else if (!visitor.on_product(std::move(*product))) {
      break;
    }
  }
  if (in.bad()) return make_error(ErrorCode::kIoError, file_.string() + ": read failed");
  return ok_status();
}

}  // namespace lookalike::ingest
