#include "index/embedded/hnsw_graph.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>

#include <hnswlib/hnswlib.h>

namespace lookalike::index::embedded {

namespace {

using Hnsw = hnswlib::HierarchicalNSW<float>;

// The fields hnswlib's saveIndex writes before the level-0 block, in order.
struct FileHeader {
  std::size_t offset_level0 = 0;
  std::size_t max_elements = 0;
  std::size_t count = 0;
  std::size_t bytes_per_element = 0;
  std::size_t label_offset = 0;
  std::size_t offset_data = 0;
  int max_level = 0;
  std::uint32_t entry_point = 0;
  std::size_t max_m = 0;
  std::size_t max_m0 = 0;
  std::size_t m = 0;
  double mult = 0;
  std::size_t ef_construction = 0;
};

template <typename T>
bool read_pod(std::ifstream& in, T& value) {
  return static_cast<bool>(in.read(reinterpret_cast<char*>(&value), sizeof(T)));
}

bool read_header(std::ifstream& in, FileHeader& h) {
  return read_pod(in, h.offset_level0) && read_pod(in, h.max_elements) && read_pod(in, h.count) &&
         read_pod(in, h.bytes_per_element) && read_pod(in, h.label_offset) &&
         read_pod(in, h.offset_data) && read_pod(in, h.max_level) && read_pod(in, h.entry_point) &&
         read_pod(in, h.max_m) && read_pod(in, h.max_m0) && read_pod(in, h.m) &&
         read_pod(in, h.mult) && read_pod(in, h.ef_construction);
}

// offsetLevel0_ .. ef_construction_: ten size_t, maxlevel_, enterpoint_node_ and mult_.
constexpr std::size_t kHeaderBytes =
    10 * sizeof(std::size_t) + sizeof(int) + sizeof(std::uint32_t) + sizeof(double);

Error corrupt(const std::filesystem::path& path, const std::string& what) {
  return make_error(ErrorCode::kCorruptData, path.string() + ": " + what);
}

// The header must describe exactly the graph we expect, and the file must be exactly as long as
// the header says; hnswlib's loader trusts both.
Status check_header(const std::filesystem::path& path, int dimension, int m,
                    std::size_t expected_count) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    auto code = std::filesystem::exists(path) ? ErrorCode::kIoError : ErrorCode::kNotFound;
    return make_error(code, path.string() + ": cannot open: " + std::strerror(errno));
  }
  const auto file_size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  FileHeader h;
  if (!read_header(in, h)) return corrupt(path, "truncated header");
  const std::size_t links0 = 2 * static_cast<std::size_t>(m) * sizeof(std::uint32_t) + 4;
  const std::size_t vector_bytes = static_cast<std::size_t>(dimension) * sizeof(float);
  if (h.offset_level0 != 0 || h.m != static_cast<std::size_t>(m) || h.max_m != h.m ||
      h.max_m0 != 2 * h.m || h.offset_data != links0 || h.label_offset != links0 + vector_bytes ||
      h.bytes_per_element != links0 + vector_bytes + sizeof(std::uint64_t)) {
    return corrupt(path, "graph header does not match the index parameters (dimension " +
                             std::to_string(dimension) + ", M " + std::to_string(m) + ")");
  }
  if (h.count != expected_count) {
    return corrupt(path, "holds " + std::to_string(h.count) + " points, meta.bin says " +
                             std::to_string(expected_count));
  }
  if (h.max_level < -1 || h.max_level > 64 || (h.count > 0 && h.entry_point >= h.count) ||
      (h.count > 0 && h.max_level < 0)) {
    return corrupt(path, "invalid entry point or level");
  }
  // level 0 block, then per slot: u32 size + upper links.
  std::uint64_t expected = in.tellg();
  expected += static_cast<std::uint64_t>(h.count) * h.bytes_per_element;
  const std::size_t upper_bytes = h.max_m * sizeof(std::uint32_t) + 4;
  in.seekg(static_cast<std::streamoff>(expected));
  for (std::size_t i = 0; i < h.count; ++i) {
    std::uint32_t size = 0;
    if (!in || !read_pod(in, size) || size % upper_bytes != 0 ||
        size / upper_bytes > static_cast<std::size_t>(h.max_level)) {
      return corrupt(path, "truncated or invalid link lists");
    }
    expected += sizeof(size) + size;
    if (expected > file_size) return corrupt(path, "truncated link lists");
    in.seekg(size, std::ios::cur);
  }
  if (expected != file_size) return corrupt(path, "unexpected file size");
  return ok_status();
}

Status check_links(const std::filesystem::path& path, const GraphView& g, int m) {
  for (std::uint32_t slot = 0; slot < g.count; ++slot) {
    if (g.levels[slot] < 0 || g.levels[slot] > g.max_level) {
      return corrupt(path, "invalid level of point " + std::to_string(slot));
    }
    for (int level = 0; level <= g.levels[slot]; ++level) {
      auto links = g.neighbours(slot, level);
      if (links.size() > static_cast<std::size_t>(level == 0 ? 2 * m : m)) {
        return corrupt(path, "invalid link count of point " + std::to_string(slot));
      }
      for (std::uint32_t other : links) {
        if (other >= g.count || g.levels[other] < level) {
          return corrupt(path, "invalid link of point " + std::to_string(slot));
        }
      }
    }
  }
  if (g.count > 0 && g.levels[g.entry_point] != g.max_level) {
    return corrupt(path, "entry point is not on the top level");
  }
  return ok_status();
}

}  // namespace

HnswGraph::HnswGraph(int dimension)
    : dimension_(dimension),
      space_(std::make_unique<hnswlib::InnerProductSpace>(static_cast<std::size_t>(dimension))) {}

HnswGraph::~HnswGraph() = default;

Result<std::unique_ptr<HnswGraph>> HnswGraph::create(int dimension, int m, int ef_construction,
                                                     std::size_t capacity) {
  std::unique_ptr<HnswGraph> graph(new HnswGraph(dimension));
  try {
    graph->hnsw_ = std::make_unique<Hnsw>(graph->space_.get(), std::max<std::size_t>(capacity, 1),
                                          static_cast<std::size_t>(m),
                                          static_cast<std::size_t>(ef_construction));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kResourceExhausted,
                      std::string("cannot allocate the vector index: ") + e.what());
  }
  return graph;
}

Result<std::unique_ptr<HnswGraph>> HnswGraph::load(const std::filesystem::path& path, int dimension,
                                                   int m, std::size_t expected_count) {
  if (auto status = check_header(path, dimension, m, expected_count); !status) {
    return status.error();
  }
  std::unique_ptr<HnswGraph> graph(new HnswGraph(dimension));
  // hnswlib's loading constructor leaves num_deleted_ uninitialised; start from a blank object.
  auto hnsw = std::make_unique<Hnsw>(graph->space_.get());
  hnsw->data_level0_memory_ = nullptr;
  hnsw->linkLists_ = nullptr;
  hnsw->visited_list_pool_ = nullptr;
  hnsw->cur_element_count = 0;
  hnsw->num_deleted_ = 0;
  try {
    hnsw->loadIndex(path.string(), graph->space_.get(), std::max<std::size_t>(expected_count, 16));
  } catch (const std::exception& e) {
    if (hnsw->element_levels_.size() < hnsw->cur_element_count) hnsw->cur_element_count = 0;
    return corrupt(path, e.what());
  }
  graph->hnsw_ = std::move(hnsw);
  if (auto status = check_links(path, graph->view(), m); !status) return status.error();
  return graph;
}

int HnswGraph::m() const { return static_cast<int>(hnsw_->M_); }
int HnswGraph::ef_construction() const { return static_cast<int>(hnsw_->ef_construction_); }
std::size_t HnswGraph::size() const { return hnsw_->cur_element_count; }
std::size_t HnswGraph::capacity() const { return hnsw_->max_elements_; }

Status HnswGraph::reserve(std::size_t capacity) {
  if (capacity <= hnsw_->max_elements_) return ok_status();
  if (capacity > std::numeric_limits<std::uint32_t>::max() / 2) {
    return make_error(ErrorCode::kResourceExhausted,
                      "the vector index cannot hold " + std::to_string(capacity) + " points");
  }
  try {
    hnsw_->resizeIndex(capacity);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kResourceExhausted,
                      std::string("cannot grow the vector index: ") + e.what());
  }
  return ok_status();
}

Result<std::uint32_t> HnswGraph::add(const float* vector, std::uint64_t label) {
  try {
    return hnsw_->addPoint(vector, label, -1);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInternal,
                      std::string("cannot add to the vector index: ") + e.what());
  }
}

void HnswGraph::mark_deleted(std::uint32_t slot) {
  if (!hnsw_->isMarkedDeleted(slot)) hnsw_->markDeletedInternal(slot);
}

bool HnswGraph::is_deleted(std::uint32_t slot) const { return hnsw_->isMarkedDeleted(slot); }

Status HnswGraph::save(const std::filesystem::path& path) const {
  try {
    hnsw_->saveIndex(path.string());
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kIoError, path.string() + ": " + e.what());
  }
  // saveIndex does not report write errors: check the size it must have.
  std::uint64_t expected = kHeaderBytes + hnsw_->cur_element_count * hnsw_->size_data_per_element_;
  for (std::size_t i = 0; i < hnsw_->cur_element_count; ++i) {
    expected += sizeof(std::uint32_t);
    if (hnsw_->element_levels_[i] > 0) {
      expected +=
          hnsw_->size_links_per_element_ * static_cast<std::size_t>(hnsw_->element_levels_[i]);
    }
  }
  std::error_code ec;
  const auto written = std::filesystem::file_size(path, ec);
  if (ec || written != expected) {
    return make_error(ErrorCode::kIoError, path.string() + ": incomplete write (disk full?)");
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const std::string reason = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return make_error(ErrorCode::kIoError, path.string() + ": fsync: " + reason);
  }
  ::close(fd);
  return ok_status();
}

GraphView HnswGraph::view() const {
  GraphView v;
  v.level0 = hnsw_->data_level0_memory_;
  v.bytes_per_element = hnsw_->size_data_per_element_;
  v.vector_offset = hnsw_->offsetData_;
  v.upper_links = hnsw_->linkLists_;
  v.upper_link_bytes = hnsw_->size_links_per_element_;
  v.levels = hnsw_->element_levels_.data();
  v.count = static_cast<std::uint32_t>(hnsw_->cur_element_count);
  v.entry_point = hnsw_->enterpoint_node_;
  v.max_level = v.count == 0 ? -1 : hnsw_->maxlevel_;
  v.dimension = dimension_;
  return v;
}

}  // namespace lookalike::index::embedded
