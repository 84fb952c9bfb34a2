// HnswGraph: the one owner of an hnswlib graph (vectors + links). Everything else reads the graph
// through GraphView, a plain description of hnswlib's memory layout, so that only
// hnsw_graph.cpp includes hnswlib (its headers define non-inline functions: one TU per binary).
//
// Shapes: slot (hnswlib's internal id) in [0, size()); each slot stores dimension() floats.
// Thread-safety: add() may run concurrently with itself (distinct labels); everything else needs
// external exclusion from writers (EmbeddedIndex's shared_mutex). GraphView is valid until the
// next reserve()/add()/destruction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>

#include "core/result.h"

namespace hnswlib {
class InnerProductSpace;
template <typename dist_t>
class HierarchicalNSW;
}  // namespace hnswlib

namespace lookalike::index::embedded {

// hnswlib's layout: level 0 is one block of `bytes_per_element` per slot holding
// [u32 header: u16 count, u8 flags (bit 0 = deleted)][u32 neighbours × 2M][float vector][u64
// label]; upper levels of slot i live in upper_links[i], `upper_link_bytes` per level (same
// header).
struct GraphView {
  const char* level0 = nullptr;
  std::size_t bytes_per_element = 0;
  std::size_t vector_offset = 0;
  char* const* upper_links = nullptr;
  std::size_t upper_link_bytes = 0;
  const int* levels = nullptr;  // top level of each slot
  std::uint32_t count = 0;
  std::uint32_t entry_point = 0;
  int max_level = -1;  // -1: empty graph
  int dimension = 0;

  const float* vector(std::uint32_t slot) const {
    return reinterpret_cast<const float*>(level0 + slot * bytes_per_element + vector_offset);
  }
  std::span<const std::uint32_t> neighbours(std::uint32_t slot, int level) const {
    const char* list =
        level == 0 ? level0 + slot * bytes_per_element
                   : upper_links[slot] + static_cast<std::size_t>(level - 1) * upper_link_bytes;
    std::uint16_t size = 0;
    std::memcpy(&size, list, sizeof(size));
    return {reinterpret_cast<const std::uint32_t*>(list) + 1, size};
  }
};

class HnswGraph {
 public:
  static Result<std::unique_ptr<HnswGraph>> create(int dimension, int m, int ef_construction,
                                                   std::size_t capacity);
  // Loads a file written by save(); validates its header against `dimension`/`m` and
  // `expected_count` and every link before returning. Errors name the file.
  static Result<std::unique_ptr<HnswGraph>> load(const std::filesystem::path& path, int dimension,
                                                 int m, std::size_t expected_count);
  ~HnswGraph();
  HnswGraph(const HnswGraph&) = delete;
  HnswGraph& operator=(const HnswGraph&) = delete;

  int dimension() const { return dimension_; }
  int m() const;
  int ef_construction() const;
  std::size_t size() const;      // slots used, deleted ones included
  std::size_t capacity() const;  // slots allocated
  Status reserve(std::size_t capacity);

  // Appends a point (label unique among the graph's labels) and returns its slot.
  Result<std::uint32_t> add(const float* vector, std::uint64_t label);
  void mark_deleted(std::uint32_t slot);  // idempotent; the slot still routes searches
  bool is_deleted(std::uint32_t slot) const;

  // hnswlib's file format, then fsync; checks the written size.
  Status save(const std::filesystem::path& path) const;

  GraphView view() const;

 private:
  HnswGraph(int dimension);

  int dimension_ = 0;
  std::unique_ptr<hnswlib::InnerProductSpace> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw_;
};

}  // namespace lookalike::index::embedded
