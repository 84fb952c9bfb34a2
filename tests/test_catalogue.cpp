#include "test_catalogue.h"

#include <cstdio>
#include <fstream>
#include <random>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "image/bicubic_resampler.h"
#include "image/image_decoder.h"
#include "image/image_encoder.h"
#include "test_support.h"

namespace lookalike::testing {

namespace fs = std::filesystem;

namespace {

// A picture no other seed draws: a two-colour gradient with random rectangles and discs.
image::RgbImage random_picture(std::mt19937& rng) {
  std::uniform_int_distribution<int> size(64, 256);
  std::uniform_int_distribution<int> channel(0, 255);
  image::RgbImage picture = image::RgbImage::blank(size(rng), size(rng));
  int a[3] = {channel(rng), channel(rng), channel(rng)};
  int b[3] = {channel(rng), channel(rng), channel(rng)};
  const int w = picture.width;
  const int h = picture.height;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < 3; ++c) {
        picture.pixels[(static_cast<std::size_t>(y) * w + x) * 3 + c] =
            static_cast<std::uint8_t>(a[c] + (b[c] - a[c]) * (x + y) / (w + h));
      }
    }
  }
  std::uniform_int_distribution<int> shapes(3, 8);
  for (int s = shapes(rng); s > 0; --s) {
    int cx = std::uniform_int_distribution<int>(0, w - 1)(rng);
    int cy = std::uniform_int_distribution<int>(0, h - 1)(rng);
    int r = std::uniform_int_distribution<int>(4, std::max(5, std::min(w, h) / 3))(rng);
    bool disc = channel(rng) % 2 == 0;
    std::uint8_t colour[3] = {static_cast<std::uint8_t>(channel(rng)),
                              static_cast<std::uint8_t>(channel(rng)),
                              static_cast<std::uint8_t>(channel(rng))};
    for (int y = std::max(0, cy - r); y < std::min(h, cy + r); ++y) {
      for (int x = std::max(0, cx - r); x < std::min(w, cx + r); ++x) {
        if (disc && (x - cx) * (x - cx) + (y - cy) * (y - cy) > r * r) continue;
        for (int c = 0; c < 3; ++c) {
          picture.pixels[(static_cast<std::size_t>(y) * w + x) * 3 + c] = colour[c];
        }
      }
    }
  }
  return picture;
}

std::string price_text(std::int64_t cents) {
  char text[32];
  std::snprintf(text, sizeof text, "%lld.%02lld", static_cast<long long>(cents / 100),
                static_cast<long long>(cents % 100));
  return text;
}

}  // namespace

TestCatalogue make_test_catalogue(const fs::path& root, int products, int max_images,
                                  std::uint32_t seed) {
  std::mt19937 rng(seed);
  TestCatalogue catalogue;
  catalogue.root = root;
  for (int p = 0; p < products; ++p) {
    TestProduct product;
    product.id = "p";
    product.id += std::to_string(seed);
    product.id += "_";
    product.id += std::to_string(p);
    product.title = "Product " + std::to_string(p);
    product.category = "cat" + std::to_string(p % 10);
    product.price_cents = std::uniform_int_distribution<std::int64_t>(100, 50000)(rng);
    int images = std::uniform_int_distribution<int>(1, max_images)(rng);
    fs::create_directories(root / product.id);
    for (int i = 1; i <= images; ++i) {
      auto jpeg = image::encode_jpeg(random_picture(rng), 90);
      if (!jpeg) throw std::runtime_error(jpeg.error().to_string());
      fs::path path = root / product.id / ("image_" + std::to_string(i) + ".jpg");
      write_bytes(path, std::string(jpeg->begin(), jpeg->end()));
      product.images.push_back(fs::absolute(path));
    }
    catalogue.products.push_back(std::move(product));
  }
  return catalogue;
}

void write_csv_manifest(const TestCatalogue& catalogue, const fs::path& file) {
  std::ofstream out(file);
  out << "external_id,title,description,category,price,currency,images,colour\n";
  for (const auto& product : catalogue.products) {
    out << product.id << ",\"" << product.title << ", the \"\"best\"\"\",A test product,"
        << product.category << "," << price_text(product.price_cents) << ",USD,";
    for (std::size_t i = 0; i < product.images.size(); ++i) {
      out << (i ? ";" : "") << fs::relative(product.images[i], file.parent_path()).string();
    }
    out << ",blue\n";
  }
}

void write_jsonl_manifest(const TestCatalogue& catalogue, const fs::path& file) {
  std::ofstream out(file);
  for (const auto& product : catalogue.products) {
    nlohmann::json row = {{"external_id", product.id},
                          {"title", product.title},
                          {"category", product.category},
                          {"price", static_cast<double>(product.price_cents) / 100.0},
                          {"currency", "USD"},
                          {"metadata", {{"colour", "blue"}}}};
    row["images"] = nlohmann::json::array();
    for (const auto& image : product.images) {
      row["images"].push_back(fs::relative(image, file.parent_path()).string());
    }
    out << row.dump() << "\n";
  }
}

std::string rescaled_jpeg(const fs::path& path, double scale, int quality) {
  auto decoded = image::decode_image_file(path);
  if (!decoded) throw std::runtime_error(decoded.error().to_string());
  int w = std::max(8, static_cast<int>(decoded->width * scale));
  int h = std::max(8, static_cast<int>(decoded->height * scale));
  auto jpeg = image::encode_jpeg(image::resize_bicubic(*decoded, w, h), quality);
  if (!jpeg) throw std::runtime_error(jpeg.error().to_string());
  return std::string(jpeg->begin(), jpeg->end());
}

}  // namespace lookalike::testing
