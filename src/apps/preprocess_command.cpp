// `lookalike preprocess`: writes OUT/<stem>.f32 (the CHW float32 tensor the vision tower sees)
// and, with --png, OUT/<stem>.png of the crop.
#include <filesystem>

#include "apps/commands.h"
#include "apps/image_loader.h"
#include "apps/output.h"
#include "core/file_util.h"
#include "image/image_encoder.h"

namespace lookalike::apps {

void register_preprocess_command(CLI::App& app, CommandFn& run) {
  struct Options {
    std::string model;
    std::string out;
    bool png = false;
    std::vector<std::string> files;
  };
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("preprocess", "Write the preprocessed tensors of images");
  cmd->add_option("--model", options->model, "Model directory (preprocessor_config.json)")
      ->required()
      ->envname("LOOKALIKE_MODEL");
  cmd->add_option("--out", options->out, "Output directory")->required();
  cmd->add_flag("--png", options->png, "Also write a PNG of the crop for people to look at");
  cmd->add_option("files", options->files, "Image files")->required();
  cmd->callback([&run, options] {
    run = [options] {
      auto loader = ImageLoader::for_model(options->model);
      if (!loader) return fail(loader.error());
      std::error_code ec;
      std::filesystem::create_directories(options->out, ec);
      if (ec) return fail(make_error(ErrorCode::kIoError, options->out + ": " + ec.message()));
      int failures = 0;
      for (const auto& file : options->files) {
        auto decoded = image::decode_image_file(file, loader->limits());
        if (!decoded) {
          print_error(decoded.error(), {{"file", file}});
          ++failures;
          continue;
        }
        const auto cropped = loader->preprocessor().resize_and_crop(*decoded);
        std::vector<float> tensor(3 * static_cast<std::size_t>(cropped.width) * cropped.height);
        loader->preprocessor().to_tensor(cropped, tensor.data());
        const auto stem = std::filesystem::path(file).stem().string();
        const auto tensor_path = std::filesystem::path(options->out) / (stem + ".f32");
        auto status = write_file_atomic(
            tensor_path, std::string_view(reinterpret_cast<const char*>(tensor.data()),
                                          tensor.size() * sizeof(float)));
        nlohmann::ordered_json line = {{"file", file},
                                       {"tensor", tensor_path.string()},
                                       {"shape", {3, cropped.height, cropped.width}}};
        if (status && options->png) {
          const auto png_path = std::filesystem::path(options->out) / (stem + ".png");
          status = image::write_png(png_path, cropped);
          line["png"] = png_path.string();
        }
        if (!status) {
          print_error(status.error(), {{"file", file}});
          ++failures;
          continue;
        }
        print_json_line(line);
      }
      return failures > 0 ? static_cast<int>(kExitPartial) : static_cast<int>(kExitOk);
    };
  });
}

}  // namespace lookalike::apps
