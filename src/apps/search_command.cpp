// `lookalike search (--text T | --image FILE | --product ID)`: the catalogue's closest products,
// one per product (its best image), best first, as one JSON object.
#include <charconv>

#include "apps/commands.h"
#include "apps/data_options.h"
#include "apps/model_loading.h"
#include "apps/output.h"
#include "apps/stores.h"
#include "core/file_util.h"
#include "image/preprocess_config.h"
#include "ingest/source/price_parser.h"
#include "search/model_fingerprint.h"
#include "search/product_searcher.h"
#include "search/search_response_json.h"

namespace lookalike::apps {

namespace {

struct SearchCommandOptions {
  DataOptions data;
  std::string text;
  std::string image;
  std::string product;
  int top_k = 20;
  std::optional<float> threshold;
  std::string category;
  std::string min_price;
  std::string max_price;
};

Result<std::optional<std::int64_t>> price_option(const std::string& text, const char* name) {
  auto cents = ingest::parse_price_cents(text);
  if (!cents) return cents.error().with_context(name);
  return *cents;
}

// A numeric catalogue id, or else an external id.
Result<std::int64_t> resolve_product(catalog::Catalog& catalog, const std::string& id) {
  std::int64_t numeric = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), numeric);
  if (ec == std::errc() && end == id.data() + id.size()) {
    if (catalog.get_product(numeric)) return numeric;
  }
  auto product = catalog.get_product_by_external_id(id);
  if (!product) return make_error(ErrorCode::kNotFound, "no product with id or external_id " + id);
  return product->id;
}

int run_search(const SearchCommandOptions& options, const GlobalOptions& global) {
  search::SearchParams params;
  params.top_k = options.top_k;
  params.threshold = options.threshold;
  params.filter.category = options.category;
  auto min_price = price_option(options.min_price, "--min-price");
  if (!min_price) return fail(min_price.error());
  auto max_price = price_option(options.max_price, "--max-price");
  if (!max_price) return fail(max_price.error());
  params.filter.min_price_cents = *min_price;
  params.filter.max_price_cents = *max_price;
  if (auto status = search::validate_search_params(params); !status) return fail(status.error());

  auto preprocess = image::PreprocessConfig::load(options.data.model);
  if (!preprocess) return fail(preprocess.error());
  auto fingerprint = search::model_fingerprint(options.data.model, *preprocess);
  if (!fingerprint) return fail(fingerprint.error());
  bool text = !options.text.empty();
  bool vision = !options.image.empty();
  std::unique_ptr<clip::ClipModel> model;
  int dimension = 0;
  if (text || vision) {
    auto loaded = load_model_for_command(options.data.model, global, vision, text);
    if (!loaded) return fail(loaded.error());
    model = std::move(*loaded);
    dimension = model->embedding_dim();
  } else {
    auto dim = model_dimension(options.data.model);
    if (!dim) return fail(dim.error());
    dimension = *dim;
  }
  auto stores = open_stores(options.data, {*fingerprint, dimension, true});
  if (!stores) return fail(stores.error());
  image::ClipPreprocessor preprocessor(*preprocess);
  search::ProductSearcher searcher(model.get(), &preprocessor, image::DecodeLimits{},
                                   *stores->catalog, *stores->index);
  Result<search::SearchResponse> response = make_error(ErrorCode::kInternal, "no query");
  if (text) {
    response = searcher.by_text(options.text, params);
  } else if (vision) {
    auto bytes = read_file(options.image);
    if (!bytes) return fail(bytes.error());
    response = searcher.by_image(
        {reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size()}, params);
  } else {
    auto id = resolve_product(*stores->catalog, options.product);
    if (!id) return fail(id.error());
    response = searcher.by_product(*id, params);
  }
  if (!response) return fail(response.error());
  print_json_line(search::search_response_to_json(*response));
  return kExitOk;
}

}  // namespace

void register_search_command(CLI::App& app, const GlobalOptions& global, CommandFn& run) {
  auto options = std::make_shared<SearchCommandOptions>();
  auto* command = app.add_subcommand("search",
                                     "Find the closest products to a text, an image "
                                     "or a product");
  add_data_options(*command, options->data, true);
  auto* text = command->add_option("--text", options->text, "Text query");
  auto* image = command->add_option("--image", options->image, "Image file query");
  auto* product = command->add_option("--product", options->product,
                                      "More like this product (id or external_id)");
  text->excludes(image)->excludes(product);
  image->excludes(product);
  command->add_option("--top-k", options->top_k, "Products to return (default 20)")
      ->check(CLI::Range(1, 1000));
  command->add_option("--threshold", options->threshold, "Minimum cosine score")
      ->check(CLI::Range(-1.0, 1.0));
  command->add_option("--category", options->category, "Only this category");
  command->add_option("--min-price", options->min_price, "Lowest price, e.g. 10 or 9.99");
  command->add_option("--max-price", options->max_price, "Highest price");
  command->callback([&run, &global, options, text, image, product] {
    if (text->count() + image->count() + product->count() != 1) {
      throw CLI::ValidationError("search", "give exactly one of --text, --image or --product");
    }
    run = [&global, options] { return run_search(*options, global); };
  });
}

}  // namespace lookalike::apps
