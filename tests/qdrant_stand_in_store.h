// The in-memory side of QdrantStandIn: one Qdrant collection (points, payload indexes) and the
// request bodies it understands, answering with the "result" part of Qdrant's replies. Requests
// Qdrant would refuse throw ApiError carrying Qdrant's HTTP status and error text.
// Not thread-safe: QdrantStandIn serialises every call.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "qdrant_stand_in_filter.h"

namespace lookalike::testing::qdrant_stand_in {

struct StoredPoint {
  std::vector<float> vector;
  nlohmann::json payload = nlohmann::json::object();
  std::uint64_t version = 0;
};

class Collection {
 public:
  // From a CreateCollection body.
  static Collection create(const nlohmann::json& body);

  nlohmann::json info() const;                                         // CollectionInfo
  nlohmann::json create_index(const nlohmann::json& body, bool wait);  // UpdateResult
  nlohmann::json upsert(const nlohmann::json& body, bool wait);        // UpdateResult
  nlohmann::json remove(const nlohmann::json& body, bool wait);        // UpdateResult
  nlohmann::json search(const nlohmann::json& body) const;             // [ScoredPoint]
  nlohmann::json search_groups(const nlohmann::json& body) const;      // GroupsResult
  nlohmann::json scroll(const nlohmann::json& body) const;             // ScrollResult
  nlohmann::json count(const nlohmann::json& body) const;              // CountResult
  nlohmann::json get_point(const std::string& id) const;               // Record

 private:
  struct Hit {
    const PointId* id;
    const StoredPoint* point;
    float score;
  };

  std::vector<float> parse_vector(const nlohmann::json& value) const;
  std::vector<Hit> scored(const nlohmann::json& body) const;
  nlohmann::json update_result(bool wait);

  std::size_t size_ = 0;
  std::string distance_;
  std::map<std::string, std::string> payload_schema_;  // field → data_type
  std::map<PointId, StoredPoint> points_;
  std::uint64_t next_operation_ = 0;
};

}  // namespace lookalike::testing::qdrant_stand_in
