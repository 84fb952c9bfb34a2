// Hugging Face `image_transforms.center_crop`: take the centred width×height window, padding with
// zeros (black) where the image is smaller, with HF's exact offsets for odd differences.
// Thread-safety: a pure function.
#pragma once

#include "image/rgb_image.h"

namespace lookalike::image {

// Per axis: a larger source starts at (src - crop) / 2 (rounded down); a smaller one is placed at
// ceil((crop - src) / 2) in a zero-filled result.
RgbImage center_crop(const RgbImage& src, int width, int height);

}  // namespace lookalike::image
