#include "index/embedded/index_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <vector>

#include "core/file_util.h"
#include "index/embedded/byte_io.h"
#include "index/embedded/checksum.h"

namespace lookalike::index::embedded {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'L', 'K', 'I', 'N', 'D', 'E', 'X', '1'};
constexpr std::uint32_t kFormatVersion = 1;
constexpr char kCurrent[] = "CURRENT";
constexpr char kMetaFile[] = "meta.bin";
constexpr char kGraphFile[] = "hnsw.bin";

Error io_error(const fs::path& path, const std::string& what) {
  return make_error(ErrorCode::kIoError, path.string() + ": " + what + ": " + std::strerror(errno));
}

Status write_durable(const fs::path& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error(path, "cannot create");
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      auto error = io_error(path, "write failed");
      ::close(fd);
      return error;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    auto error = io_error(path, "fsync");
    ::close(fd);
    return error;
  }
  ::close(fd);
  return ok_status();
}

Status fsync_directory(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error(path, "cannot open directory");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return io_error(path, "fsync");
  return ok_status();
}

std::string generation_name(std::int64_t generation) { return "gen-" + std::to_string(generation); }

// "gen-<n>" → n; 0 for anything else.
std::int64_t parse_generation(std::string_view name) {
  if (name.size() < 5 || name.size() > 22 || name.substr(0, 4) != "gen-") return 0;
  std::int64_t value = 0;
  for (char c : name.substr(4)) {
    if (c < '0' || c > '9') return 0;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::vector<std::int64_t> generations_on_disk(const fs::path& directory) {
  std::vector<std::int64_t> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    if (std::int64_t g = parse_generation(entry.path().filename().string()); g > 0) {
      found.push_back(g);
    }
  }
  std::sort(found.rbegin(), found.rend());
  return found;
}

std::string encode_meta(const IndexMeta& meta, const PayloadTable& payload,
                        std::uint64_t graph_bytes, std::uint64_t graph_checksum) {
  ByteWriter out;
  for (char c : kMagic) out.put(c);
  out.put(kFormatVersion);
  out.put<std::uint32_t>(static_cast<std::uint32_t>(meta.dimension));
  out.put_string(meta.fingerprint);
  out.put(meta.applied_seq);
  out.put(meta.slots);
  out.put(meta.alive);
  out.put<std::uint32_t>(static_cast<std::uint32_t>(meta.m));
  out.put<std::uint32_t>(static_cast<std::uint32_t>(meta.ef_construction));
  out.put(graph_bytes);
  out.put(graph_checksum);
  payload.write(out);
  Checksum checksum;
  checksum.update(out.bytes().data(), out.bytes().size());
  out.put(checksum.value());
  return out.take();
}

Result<LoadedGeneration> load_generation(const fs::path& directory, std::int64_t generation,
                                         int dimension, const std::string& fingerprint) {
  const fs::path gen_dir = directory / generation_name(generation);
  const fs::path meta_path = gen_dir / kMetaFile;
  const std::string what = meta_path.string();
  auto corrupt = [&](const std::string& why) {
    return make_error(ErrorCode::kCorruptData, what + ": " + why);
  };
  auto bytes = read_file(meta_path);
  if (!bytes) return bytes.error();
  if (bytes->size() < sizeof(kMagic) + sizeof(std::uint64_t)) return corrupt("truncated");
  if (std::memcmp(bytes->data(), kMagic, sizeof(kMagic)) != 0) {
    return corrupt("not a Lookalike index file (bad magic)");
  }
  const std::size_t body = bytes->size() - sizeof(std::uint64_t);
  ByteReader in(std::string_view(*bytes).substr(0, body));
  char magic[sizeof(kMagic)];
  for (char& c : magic) (void)in.get(c);
  std::uint32_t version = 0, dim = 0, m = 0, ef_construction = 0;
  if (!in.get(version)) return corrupt("truncated");
  if (version != kFormatVersion) {
    return make_error(ErrorCode::kUnsupported, what + ": format version " +
                                                   std::to_string(version) + ", this build reads " +
                                                   std::to_string(kFormatVersion));
  }
  std::uint64_t stored_checksum = 0;
  std::memcpy(&stored_checksum, bytes->data() + body, sizeof(stored_checksum));
  Checksum checksum;
  checksum.update(bytes->data(), body);
  if (checksum.value() != stored_checksum)
    return corrupt("checksum mismatch (truncated or damaged)");

  LoadedGeneration loaded;
  loaded.generation = generation;
  IndexMeta& meta = loaded.meta;
  std::uint64_t graph_bytes = 0, graph_checksum = 0;
  if (!in.get(dim) || !in.get_string(meta.fingerprint) || !in.get(meta.applied_seq) ||
      !in.get(meta.slots) || !in.get(meta.alive) || !in.get(m) || !in.get(ef_construction) ||
      !in.get(graph_bytes) || !in.get(graph_checksum)) {
    return corrupt("truncated header");
  }
  meta.dimension = static_cast<int>(dim);
  meta.m = static_cast<int>(m);
  meta.ef_construction = static_cast<int>(ef_construction);
  // An empty fingerprint and dimension 0 take whatever is stored (read-only uses: stats).
  if (!fingerprint.empty() && meta.fingerprint != fingerprint)
    return loaded;  // caller starts empty
  if (dimension != 0 && meta.dimension != dimension) {
    return make_error(ErrorCode::kFailedPrecondition,
                      what + ": holds " + std::to_string(meta.dimension) +
                          "-dimensional vectors, expected " + std::to_string(dimension));
  }
  if (m < 2 || m > 4096 || meta.slots > std::numeric_limits<std::uint32_t>::max() / 2 ||
      meta.applied_seq < 0) {
    return corrupt("invalid header values");
  }
  auto payload = PayloadTable::read(in, meta.slots, what);
  if (!payload) return payload.error();
  if (in.remaining() != 0) return corrupt("trailing bytes after the payload table");
  if (payload->alive_count() != meta.alive) return corrupt("alive count does not match");
  loaded.payload = std::move(*payload);

  const fs::path graph_path = gen_dir / kGraphFile;
  std::error_code ec;
  const auto size = fs::file_size(graph_path, ec);
  if (ec) return make_error(ErrorCode::kNotFound, graph_path.string() + ": " + ec.message());
  if (size != graph_bytes) {
    return make_error(ErrorCode::kCorruptData, graph_path.string() + ": " + std::to_string(size) +
                                                   " bytes, meta.bin says " +
                                                   std::to_string(graph_bytes));
  }
  auto sum = checksum_file(graph_path);
  if (!sum) return sum.error();
  if (*sum != graph_checksum) {
    return make_error(ErrorCode::kCorruptData, graph_path.string() + ": checksum mismatch");
  }
  auto graph = HnswGraph::load(graph_path, meta.dimension, meta.m, meta.slots);
  if (!graph) return graph.error();
  for (std::uint32_t slot = 0; slot < meta.slots; ++slot) {
    if (loaded.payload.alive(slot) == (*graph)->is_deleted(slot)) {
      return make_error(ErrorCode::kCorruptData,
                        graph_path.string() + ": deletion marks disagree with meta.bin");
    }
  }
  loaded.graph = std::move(*graph);
  return loaded;
}

}  // namespace

Status write_generation(const fs::path& directory, std::int64_t generation, const IndexMeta& meta,
                        const PayloadTable& payload, const HnswGraph& graph) {
  const fs::path gen_dir = directory / generation_name(generation);
  std::error_code ec;
  fs::remove_all(gen_dir, ec);  // a leftover of a crashed flush
  fs::create_directories(gen_dir, ec);
  if (ec) return make_error(ErrorCode::kIoError, gen_dir.string() + ": " + ec.message());

  const fs::path graph_path = gen_dir / kGraphFile;
  if (auto status = graph.save(graph_path); !status) return status;
  const auto graph_bytes = fs::file_size(graph_path, ec);
  if (ec) return make_error(ErrorCode::kIoError, graph_path.string() + ": " + ec.message());
  auto graph_checksum = checksum_file(graph_path);
  if (!graph_checksum) return graph_checksum.error();
  if (auto status = write_durable(gen_dir / kMetaFile,
                                  encode_meta(meta, payload, graph_bytes, *graph_checksum));
      !status) {
    return status;
  }
  if (auto status = fsync_directory(gen_dir); !status) return status;
  if (auto status = fsync_directory(directory); !status) return status;

  // The switch: CURRENT is replaced atomically once the generation is durable.
  const fs::path current_tmp = directory / (std::string(kCurrent) + ".tmp");
  if (auto status = write_durable(current_tmp, generation_name(generation) + "\n"); !status) {
    return status;
  }
  fs::rename(current_tmp, directory / kCurrent, ec);
  if (ec) return make_error(ErrorCode::kIoError, directory.string() + "/CURRENT: " + ec.message());
  if (auto status = fsync_directory(directory); !status) return status;

  for (std::int64_t old : generations_on_disk(directory)) {
    if (old != generation) fs::remove_all(directory / generation_name(old), ec);
  }
  return ok_status();
}

Result<std::optional<LoadedGeneration>> load_current_generation(const fs::path& directory,
                                                                int dimension,
                                                                const std::string& fingerprint) {
  const fs::path current_path = directory / kCurrent;
  std::error_code ec;
  if (!fs::exists(current_path, ec)) return std::optional<LoadedGeneration>();
  auto text = read_file(current_path);
  if (!text) return text.error();
  std::string name = *text;
  while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
  const std::int64_t current = parse_generation(name);

  std::optional<Error> first_error;
  if (current > 0) {
    auto loaded = load_generation(directory, current, dimension, fingerprint);
    if (loaded) return std::optional<LoadedGeneration>(std::move(*loaded));
    first_error = loaded.error();
  } else {
    first_error =
        make_error(ErrorCode::kCorruptData, current_path.string() + ": does not name a generation");
  }
  // CURRENT's generation is unusable: an older complete one is better than nothing (the caller
  // replays the catalogue changes after its applied_seq).
  for (std::int64_t older : generations_on_disk(directory)) {
    if (older == current) continue;
    auto loaded = load_generation(directory, older, dimension, fingerprint);
    if (loaded) {
      loaded->note = "loaded " + generation_name(older) + " because " + first_error->to_string();
      return std::optional<LoadedGeneration>(std::move(*loaded));
    }
  }
  return *first_error;
}

std::int64_t highest_generation(const fs::path& directory) {
  auto found = generations_on_disk(directory);
  return found.empty() ? 0 : found.front();
}

}  // namespace lookalike::index::embedded
