#include "ingest/ingest_pipeline.h"

#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "core/blocking_queue.h"
#include "ingest/product_preparer.h"

namespace lookalike::ingest {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxListedAhead = 1'000'000;  // source products waiting for a worker
constexpr auto kPartialBatchWait = std::chrono::milliseconds(50);

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The first fatal error of any stage; later ones are dropped.
class FirstError {
 public:
  void set(Error error) {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = std::move(error);
  }
  std::optional<Error> get() const {
    std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  mutable std::mutex mutex_;
  std::optional<Error> error_;
};

catalog::ProductWrite to_write(const ProductJob& job, const std::string& fingerprint) {
  catalog::ProductWrite write;
  const SourceProduct& source = job.source;
  write.product.external_id = source.external_id;
  write.product.title = source.title;
  write.product.description = source.description;
  write.product.category = source.category;
  write.product.price_cents = source.price_cents;
  write.product.currency = source.currency;
  write.product.metadata = source.metadata;
  write.product.image_url = job.images.front().row.url;
  std::set<std::string> embedded;
  for (const auto& image : job.images) {
    write.images.push_back(image.row);
    if (image.slot && embedded.insert(image.slot->sha256).second) {
      write.embeddings.push_back({image.slot->sha256, fingerprint, image.slot->vector});
    }
  }
  return write;
}

}  // namespace

IngestPipeline::IngestPipeline(const clip::ClipModel& model,
                               const image::ClipPreprocessor& preprocessor,
                               catalog::Catalog& catalog, index::VectorIndex* index,
                               search::IndexSync* sync, const ImageStore& store,
                               SourceFetcher& fetcher, IngestReport& report, IngestOptions options)
    : model_(model),
      preprocessor_(preprocessor),
      catalog_(catalog),
      index_(index),
      sync_(sync),
      store_(store),
      fetcher_(fetcher),
      report_(report),
      options_(std::move(options)) {}

Result<IngestSummary> IngestPipeline::run(
    ProductSource& source, const std::function<void(const IngestProgress&)>& progress) {
  const auto start = Clock::now();
  const int batch = std::max(1, options_.batch);
  auto stopping = [&] { return options_.stop != nullptr && options_.stop->load(); };

  SlotRegistry slots;
  ProductPreparer preparer(catalog_, store_, fetcher_, slots, preprocessor_, options_.limits,
                           options_.fingerprint, report_);
  BlockingQueue<SourceProduct> listed(kMaxListedAhead);
  BlockingQueue<ProductJob> prepared(static_cast<std::size_t>(batch) * 2);
  BlockingQueue<ProductJob> completed(static_cast<std::size_t>(options_.commit_products) * 2);
  FirstError fatal;
  std::atomic<std::int64_t> products_listed{0};
  std::atomic<std::int64_t> problems{0};
  std::atomic<bool> listing_done{false};

  // Stage 1: list the source.
  std::thread lister([&] {
    SourceVisitor visitor;
    visitor.on_product = [&](SourceProduct product) {
      if (stopping() || fatal.get()) return false;
      ++products_listed;
      return listed.push(std::move(product));
    };
    visitor.on_problem = [&](SourceProblem problem) {
      ++problems;
      ++products_listed;  // an item of the source all the same: it counts towards the total
      report_.add("failed", problem.item, problem.external_id, problem.reason);
      report_.update([](IngestCounters& c) { ++c.products_failed; });
    };
    if (auto status = source.scan(visitor); !status) fatal.set(status.error());
    listing_done = true;
    listed.close();
  });

  // Stage 2: fetch, validate, store, preprocess.
  std::vector<std::thread> workers;
  std::atomic<int> workers_left{std::max(1, options_.concurrency)};
  for (int i = 0; i < std::max(1, options_.concurrency); ++i) {
    workers.emplace_back([&] {
      while (!stopping() && !fatal.get()) {
        auto product = listed.pop();
        if (!product) break;
        report_.update([](IngestCounters& c) { ++c.products_seen; });
        prepared.push(preparer.prepare(std::move(*product)));
      }
      if (--workers_left == 0) prepared.close();
    });
  }

  // Stage 3: embed in batches; release products once all their slots have vectors.
  std::thread embedder([&] {
    std::deque<ProductJob> waiting;
    std::deque<EmbeddingSlot*> pending;
    std::vector<float> pixels;
    const std::size_t tensor_size = model_.image_tensor_size();
    const auto dim = static_cast<std::size_t>(model_.embedding_dim());
    auto embed = [&](std::size_t count) {
      pixels.resize(count * tensor_size);
      for (std::size_t i = 0; i < count; ++i) {
        std::copy(pending[i]->tensor.begin(), pending[i]->tensor.end(),
                  pixels.begin() + static_cast<std::ptrdiff_t>(i * tensor_size));
      }
      std::vector<float> out(count * dim);
      auto status = model_.embed_images(pixels.data(), static_cast<int>(count), out.data());
      if (!status) {
        fatal.set(status.error());
        return;
      }
      for (std::size_t i = 0; i < count; ++i) {
        EmbeddingSlot* slot = pending.front();
        pending.pop_front();
        slot->vector.assign(out.begin() + static_cast<std::ptrdiff_t>(i * dim),
                            out.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim));
        slot->tensor = {};
        slot->embedded = true;
      }
      report_.update(
          [&](IngestCounters& c) { c.images_embedded += static_cast<std::int64_t>(count); });
    };
    auto release_ready = [&] {
      // In arrival order, but a product waiting on another's slot does not hold up later ones.
      for (auto it = waiting.begin(); it != waiting.end();) {
        if (it->ready()) {
          completed.push(std::move(*it));
          it = waiting.erase(it);
        } else {
          ++it;
        }
      }
    };
    for (;;) {
      auto job = prepared.pop_for(kPartialBatchWait);
      if (job) {
        for (auto& image : job->images) {
          if (image.owner && image.slot && !image.slot->embedded && !image.slot->tensor.empty()) {
            pending.push_back(image.slot.get());
          }
        }
        waiting.push_back(std::move(*job));
      }
      bool input_done = !job && prepared.closed_and_empty();
      while (!fatal.get() &&
             (pending.size() >= static_cast<std::size_t>(batch) || (!job && !pending.empty()))) {
        embed(std::min(pending.size(), static_cast<std::size_t>(batch)));
      }
      release_ready();
      if (input_done || fatal.get()) break;
    }
    prepared.close();  // after a fatal error, workers blocked on a full queue must wake up
    completed.close();
  });

  // Stage 4 (this thread): write batches to the catalogue, then bring the index up to date.
  IngestSummary summary;
  std::vector<ProductJob> batch_jobs;
  auto last_commit = Clock::now();
  auto last_flush = Clock::now();
  auto report_progress = [&] {
    if (!progress) return;
    IngestProgress p;
    p.counters = report_.counters();
    p.products_listed = products_listed.load();
    p.listing_done = listing_done.load();
    p.seconds = seconds_since(start);
    progress(p);
  };
  auto commit = [&] {
    std::vector<catalog::ProductWrite> writes;
    std::vector<const ProductJob*> written;
    for (const auto& job : batch_jobs) {
      if (job.failed()) {
        report_.update([&](IngestCounters& c) {
          ++c.products_failed;
          c.images_failed += job.images_failed;
        });
      } else if (job.unchanged) {
        report_.update([&](IngestCounters& c) {
          ++c.products_skipped;
          c.images_failed += job.images_failed;
        });
      } else {
        writes.push_back(to_write(job, options_.fingerprint));
        written.push_back(&job);
      }
    }
    auto stored = writes.empty()
                      ? Result<std::vector<catalog::Product>>(std::vector<catalog::Product>{})
                      : catalog_.write_products(writes);
    std::vector<bool> ok(writes.size(), stored.ok());
    if (!stored) {
      // One bad product must not sink its batch: write them one by one to find it.
      for (std::size_t i = 0; i < writes.size(); ++i) {
        auto single = catalog_.write_products(std::span(&writes[i], 1));
        ok[i] = single.ok();
        if (!single) {
          report_.add("failed", written[i]->source.location, writes[i].product.external_id,
                      single.error().to_string());
        }
      }
    }
    for (std::size_t i = 0; i < written.size(); ++i) {
      const ProductJob& job = *written[i];
      report_.update([&](IngestCounters& c) {
        c.images_failed += job.images_failed;
        ok[i] ? ++c.products_ingested : ++c.products_failed;
      });
      if (!ok[i]) continue;
      for (const auto& path : job.obsolete_paths) (void)store_.remove(path);
      for (const auto& image : job.images) {
        if (image.owner && image.slot) slots.release(image.slot->sha256);
      }
    }
    batch_jobs.clear();
    last_commit = Clock::now();
    if (sync_ != nullptr) {
      if (auto synced = sync_->catch_up(); !synced) {
        fatal.set(synced.error().with_context("updating the vector index"));
      }
    }
    if (index_ != nullptr && Clock::now() - last_flush >= options_.index_flush_interval) {
      if (auto status = index_->flush(); !status) fatal.set(status.error());
      last_flush = Clock::now();
    }
    report_progress();
  };
  for (;;) {
    auto job = completed.pop_for(options_.commit_interval);
    if (job) batch_jobs.push_back(std::move(*job));
    bool done = !job && completed.closed_and_empty();
    if (!batch_jobs.empty() &&
        (done || batch_jobs.size() >= static_cast<std::size_t>(options_.commit_products) ||
         Clock::now() - last_commit >= options_.commit_interval)) {
      commit();
    } else if (!job) {
      report_progress();
    }
    if (done) break;
  }

  // A fatal error upstream: unblock and drain the other stages.
  listed.close();
  lister.join();
  for (auto& worker : workers) worker.join();
  embedder.join();
  if (index_ != nullptr) {
    if (auto status = index_->flush(); !status) fatal.set(status.error());
  }
  report_progress();

  summary.counters = report_.counters();
  summary.source_problems = problems.load();
  summary.seconds = seconds_since(start);
  summary.images_per_second =
      summary.seconds > 0 ? static_cast<double>(summary.counters.images_embedded) / summary.seconds
                          : 0;
  summary.stopped = stopping();
  if (auto error = fatal.get()) return *error;
  return summary;
}

}  // namespace lookalike::ingest
