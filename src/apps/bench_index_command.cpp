// `lookalike bench index`: builds the embedded vector index over synthetic CLIP-like vectors and
// prints build time, query latency percentiles and recall@k against an exact scan for plain,
// filtered (~10%, one category of ten) and grouped queries, save/load time and RSS — one JSON
// line on stdout, a table on stderr.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "apps/commands.h"
#include "apps/latency_summary.h"
#include "apps/output.h"
#include "apps/synthetic_points.h"
#include "core/thread_pool.h"
#include "index/embedded/embedded_index.h"

namespace lookalike::apps {

namespace {

using Clock = std::chrono::steady_clock;
using index::Point;
using index::SearchHit;
using index::SearchQuery;

struct BenchIndexOptions {
  int points = 200000;
  int dim = 512;
  int queries = 1000;
  int k = 20;
  std::string data = "clustered";
  std::string dir;     // empty: a temporary directory, removed afterwards
  bool reuse = false;  // keep an index of the same size found in dir instead of rebuilding
  index::HnswOptions hnsw;
};

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::vector<Point> generate(const BenchIndexOptions& o, int count, std::uint64_t seed) {
  return synthetic_points({o.points, o.dim, o.data == "clustered"}, count, seed);
}

struct Measured {
  nlohmann::ordered_json json;
  std::vector<std::vector<SearchHit>> hits;
};

// Runs every query with `shape` applied; recall against `truth` when given.
Result<Measured> measure(const index::VectorIndex& index, const std::vector<Point>& queries,
                         const SearchQuery& shape,
                         const std::vector<std::vector<SearchHit>>* truth) {
  Measured out;
  std::vector<double> ms;
  double recall = 0;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    SearchQuery q = shape;
    q.vector = queries[i].vector;
    const auto start = Clock::now();
    auto hits = index.search(q);
    ms.push_back(ms_since(start));
    if (!hits) return hits.error();
    if (truth != nullptr && !(*truth)[i].empty()) {
      std::set<std::int64_t> got;
      for (const auto& hit : *hits) got.insert(hit.id);
      int found = 0;
      for (const auto& hit : (*truth)[i]) found += got.count(hit.id) ? 1 : 0;
      recall += static_cast<double>(found) / static_cast<double>((*truth)[i].size());
    } else if (truth != nullptr) {
      recall += 1;
    }
    out.hits.push_back(std::move(*hits));
  }
  out.json = latency_summary(ms);
  if (truth != nullptr) out.json["recall"] = recall / static_cast<double>(queries.size());
  return out;
}

double rss_mb() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / 1048576.0;
}

int run_bench_index(const BenchIndexOptions& o) {
  std::string dir = o.dir;
  const bool temporary = dir.empty();
  if (temporary) {
    dir = (std::filesystem::temp_directory_path() /
           ("lookalike-bench-index-" + std::to_string(::getpid())))
              .string();
  }
  index::IndexOptions options;
  options.dimension = o.dim;
  options.fingerprint = "bench-" + o.data + "-" + std::to_string(o.points) + "x" +
                        std::to_string(o.dim) + "-m" + std::to_string(o.hnsw.m) + "-efc" +
                        std::to_string(o.hnsw.ef_construction);
  options.directory = dir;
  options.hnsw = o.hnsw;

  auto start = Clock::now();
  const auto points = generate(o, o.points, 1);
  const auto queries = generate(o, o.queries, 2);  // same mixture, not in the index
  const double generate_ms = ms_since(start);

  auto opened = index::embedded::EmbeddedIndex::open(options);
  if (!opened) return fail(opened.error());
  auto& index = **opened;
  auto before = index.info();
  const bool reused = o.reuse && before && before->points == o.points && before->applied_seq == 1;
  double build_s = 0;
  if (!reused) {
    if (auto status = index.clear(); !status) return fail(status.error());
    start = Clock::now();
    if (auto status = index.upsert(points); !status) return fail(status.error());
    build_s = ms_since(start) / 1000;
  }
  const double rss_after_build = rss_mb();

  SearchQuery shape;
  shape.limit = o.k;
  nlohmann::ordered_json result = {
      {"data", o.data},
      {"points", o.points},
      {"dim", o.dim},
      {"queries", o.queries},
      {"k", o.k},
      {"threads", compute_threads()},
      {"m", o.hnsw.m},
      {"ef_construction", o.hnsw.ef_construction},
      {"ef_search", o.hnsw.ef_search},
      {"exact_below", o.hnsw.exact_below},
      {"generate_ms", generate_ms},
      {"build_s", reused ? nlohmann::ordered_json() : nlohmann::ordered_json(build_s)}};

  struct Case {
    const char* name;
    bool group;
    bool filter;
    bool force_hnsw;  // exact_below = 0 for the approximate run
  };
  const Case cases[] = {{"hnsw", false, false, true},
                        {"filtered_10pct", false, true, false},
                        {"filtered_10pct_hnsw", false, true, true},
                        {"group_by_product", true, false, true}};
  std::vector<std::vector<SearchHit>> plain_truth;
  for (const Case& c : cases) {
    SearchQuery q = shape;
    q.group_by_product = c.group;
    if (c.filter) q.filter.category = "category-3";
    q.exact = true;
    auto truth = measure(index, queries, q, nullptr);
    if (!truth) return fail(truth.error());
    if (!c.filter && !c.group) result["exact"] = truth->json;
    q.exact = false;
    index.set_exact_below(c.force_hnsw ? 0 : o.hnsw.exact_below);
    auto approx = measure(index, queries, q, &truth->hits);
    index.set_exact_below(o.hnsw.exact_below);
    if (!approx) return fail(approx.error());
    approx->json["exact_p50"] = truth->json["p50"];
    result[c.name] = approx->json;
  }

  start = Clock::now();
  if (auto status = index.set_applied_seq(1); !status) return fail(status.error());  // "built"
  if (auto status = index.flush(); !status) return fail(status.error());
  const double save_s = ms_since(start) / 1000;
  opened->reset();
  start = Clock::now();
  auto reopened = index::open_embedded_index(options);
  if (!reopened) return fail(reopened.error());
  const double load_s = ms_since(start) / 1000;
  auto info = (*reopened)->info();
  if (!info || info->points != o.points) {
    return fail(make_error(ErrorCode::kInternal, "the reloaded index lost points"));
  }
  reopened->reset();
  if (temporary) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  result["save_s"] = save_s;
  result["load_s"] = load_s;
  result["rss_after_build_mb"] = rss_after_build;
  result["peak_rss_mb"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
  print_json_line(result);

  std::fprintf(stderr, "%d × %d %s vectors, k=%d, %d queries, M=%d ef_c=%d ef=%d, %d threads\n",
               o.points, o.dim, o.data.c_str(), o.k, o.queries, o.hnsw.m, o.hnsw.ef_construction,
               o.hnsw.ef_search, compute_threads());
  std::fprintf(stderr, "  build %8.1f s   save %.2f s   load %.2f s   RSS %.0f MiB (peak %.0f)\n",
               build_s, save_s, load_s, rss_after_build, result["peak_rss_mb"].get<double>());
  std::fprintf(stderr, "  %-22s %8s %8s %8s %8s\n", "query", "p50 ms", "p90 ms", "p99 ms",
               "recall");
  auto row = [&](const char* name, const nlohmann::ordered_json& r) {
    std::fprintf(stderr, "  %-22s %8.3f %8.3f %8.3f %8s\n", name, r["p50"].get<double>(),
                 r["p90"].get<double>(), r["p99"].get<double>(),
                 r.contains("recall")
                     ? std::to_string(r["recall"].get<double>()).substr(0, 6).c_str()
                     : "exact");
  };
  row("exact", result["exact"]);
  for (const Case& c : cases) row(c.name, result[c.name]);
  return kExitOk;
}

}  // namespace

void register_bench_index_command(CLI::App& bench, CommandFn& run) {
  auto options = std::make_shared<BenchIndexOptions>();
  auto* cmd = bench.add_subcommand("index", "Vector index build time, latency and recall");
  cmd->add_option("--points", options->points, "Vectors in the index")
      ->check(CLI::Range(1, 50000000));
  cmd->add_option("--dim", options->dim, "Vector dimension")->check(CLI::Range(1, 4096));
  cmd->add_option("--queries", options->queries, "Queries per measurement")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--k", options->k, "Results per query (recall@k)")->check(CLI::Range(1, 10000));
  cmd->add_option("--data", options->data, "clustered (CLIP-like) or uniform (worst case)")
      ->check(CLI::IsMember({"clustered", "uniform"}));
  cmd->add_option("--dir", options->dir, "Index directory (default: a temporary one)");
  cmd->add_flag("--reuse", options->reuse,
                "Measure the index already in --dir if it has --points points (no build)");
  cmd->add_option("--m", options->hnsw.m, "HNSW graph degree")->check(CLI::Range(2, 1024));
  cmd->add_option("--ef-construction", options->hnsw.ef_construction, "HNSW build beam width")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--ef-search", options->hnsw.ef_search, "HNSW search beam width")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--exact-below", options->hnsw.exact_below,
                  "Scan exactly below this many points or filter matches");
  cmd->callback([&run, options] { run = [options] { return run_bench_index(*options); }; });
}

}  // namespace lookalike::apps
