// The embedded index on disk: one directory per flushed generation, `gen-<n>/` holding
// `meta.bin` (our versioned header — magic, format version, dimension, fingerprint, applied_seq,
// counts, HNSW parameters, graph file size and checksum — then the payload table, then a
// checksum of all of it) and `hnsw.bin` (hnswlib's saveIndex format). `CURRENT` names the live
// generation and is replaced atomically (temp file + fsync + rename + directory fsync) only after
// the generation is complete and durable, so a crash at any point leaves the previous one
// loadable. Older generations are removed after the switch.
// Thread-safety: none; EmbeddedIndex serialises flushes and loads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/result.h"
#include "index/embedded/hnsw_graph.h"
#include "index/embedded/payload_table.h"

namespace lookalike::index::embedded {

struct IndexMeta {
  int dimension = 0;
  std::string fingerprint;
  std::int64_t applied_seq = 0;
  std::uint64_t slots = 0;  // graph slots, deleted ones included
  std::int64_t alive = 0;
  int m = 0;
  int ef_construction = 0;
};

struct LoadedGeneration {
  std::int64_t generation = 0;
  IndexMeta meta;
  // Null when meta.fingerprint differs from the one asked for: the caller starts empty.
  std::unique_ptr<HnswGraph> graph;
  PayloadTable payload;
  std::string note;  // set when an older generation was loaded because CURRENT's failed
};

// Writes gen-<generation>/ under `directory`, makes it CURRENT and removes the others.
Status write_generation(const std::filesystem::path& directory, std::int64_t generation,
                        const IndexMeta& meta, const PayloadTable& payload, const HnswGraph& graph);

// The generation CURRENT names (falling back to older complete ones if it cannot be loaded);
// nullopt when nothing was ever flushed. Errors name the offending file.
Result<std::optional<LoadedGeneration>> load_current_generation(
    const std::filesystem::path& directory, int dimension, const std::string& fingerprint);

// The highest generation number present (0 if none), so the next flush never reuses a
// directory a crash left behind.
std::int64_t highest_generation(const std::filesystem::path& directory);

}  // namespace lookalike::index::embedded
