// Test-only encoders that build small, exactly known image files byte by byte (PNG with stored
// deflate, GIF with fixed-width LZW, BMP, TIFF, JPEG EXIF insertion), so decoder tests do not
// depend on another codec library.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace lookalike::image::fixtures {

inline void put_u16_be(std::string& out, unsigned v) {
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
  out.push_back(static_cast<char>(v & 0xFF));
}
inline void put_u32_be(std::string& out, std::uint32_t v) {
  put_u16_be(out, v >> 16);
  put_u16_be(out, v & 0xFFFF);
}
inline void put_u16_le(std::string& out, unsigned v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
}
inline void put_u32_le(std::string& out, std::uint32_t v) {
  put_u16_le(out, v & 0xFFFF);
  put_u16_le(out, v >> 16);
}

inline std::uint32_t crc32(const std::string& data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xFFFFFFFFu;
}

inline std::string png_chunk(const std::string& type, const std::string& data) {
  std::string out;
  put_u32_be(out, static_cast<std::uint32_t>(data.size()));
  out += type;
  out += data;
  put_u32_be(out, crc32(type + data));
  return out;
}

// zlib stream made of stored (uncompressed) deflate blocks.
inline std::string zlib_stored(const std::string& raw) {
  std::string out = "\x78\x01";
  std::size_t offset = 0;
  do {
    const std::size_t n = std::min<std::size_t>(65535, raw.size() - offset);
    const bool last = offset + n == raw.size();
    out.push_back(last ? 1 : 0);
    put_u16_le(out, static_cast<unsigned>(n));
    put_u16_le(out, static_cast<unsigned>(~n & 0xFFFF));
    out.append(raw, offset, n);
    offset += n;
  } while (offset < raw.size());
  std::uint32_t a = 1;
  std::uint32_t b = 0;
  for (unsigned char c : raw) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  put_u32_be(out, (b << 16) | a);
  return out;
}

inline std::string png_ihdr(std::uint32_t width, std::uint32_t height, int bit_depth,
                            int colour_type) {
  std::string ihdr;
  put_u32_be(ihdr, width);
  put_u32_be(ihdr, height);
  ihdr.push_back(static_cast<char>(bit_depth));
  ihdr.push_back(static_cast<char>(colour_type));
  ihdr.append(3, '\0');  // compression, filter, interlace
  return png_chunk("IHDR", ihdr);
}

// `rows` are the raw scanlines without filter bytes; each gets filter 0.
inline std::string make_png(int width, int height, int bit_depth, int colour_type,
                            const std::vector<std::string>& rows,
                            const std::string& extra_chunks = "") {
  std::string raw;
  for (const auto& row : rows) {
    raw.push_back('\0');
    raw += row;
  }
  return std::string("\x89PNG\r\n\x1A\n", 8) + png_ihdr(width, height, bit_depth, colour_type) +
         extra_chunks + png_chunk("IDAT", zlib_stored(raw)) + png_chunk("IEND", "");
}

// A GIF frame: indices into the 4-entry global palette.
struct GifFrame {
  int width;
  int height;
  std::vector<int> indices;
};

// LZW with code width fixed at 3 bits: a clear code before every second pixel keeps the
// dictionary from growing, which every decoder accepts.
inline std::string gif_lzw_min2(const std::vector<int>& indices) {
  std::vector<int> codes;
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (i % 2 == 0) codes.push_back(4);  // clear
    codes.push_back(indices[i]);
  }
  codes.push_back(5);  // end of information
  std::string bytes;
  std::uint32_t bit_buffer = 0;
  int bits = 0;
  for (int code : codes) {
    bit_buffer |= static_cast<std::uint32_t>(code) << bits;
    bits += 3;
    while (bits >= 8) {
      bytes.push_back(static_cast<char>(bit_buffer & 0xFF));
      bit_buffer >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) bytes.push_back(static_cast<char>(bit_buffer & 0xFF));
  std::string out;
  out.push_back(2);  // LZW minimum code size
  for (std::size_t offset = 0; offset < bytes.size(); offset += 255) {
    const std::size_t n = std::min<std::size_t>(255, bytes.size() - offset);
    out.push_back(static_cast<char>(n));
    out.append(bytes, offset, n);
  }
  out.push_back('\0');
  return out;
}

inline std::string make_gif(int width, int height, const std::array<std::uint8_t, 12>& palette,
                            const std::vector<GifFrame>& frames) {
  std::string out = "GIF89a";
  put_u16_le(out, width);
  put_u16_le(out, height);
  out.push_back(static_cast<char>(0xF1));  // global table, 4 entries
  out.push_back(0);
  out.push_back(0);
  out.append(reinterpret_cast<const char*>(palette.data()), palette.size());
  for (const auto& frame : frames) {
    out += std::string("\x21\xF9\x04\x00\x0A\x00\x00\x00", 8);  // GCE: 0.1 s, no transparency
    out.push_back(0x2C);
    put_u16_le(out, 0);
    put_u16_le(out, 0);
    put_u16_le(out, frame.width);
    put_u16_le(out, frame.height);
    out.push_back(0);
    out += gif_lzw_min2(frame.indices);
  }
  out.push_back(0x3B);
  return out;
}

// 24-bit bottom-up BMP of interleaved RGB pixels.
inline std::string make_bmp(int width, int height, const std::vector<std::uint8_t>& rgb) {
  const int stride = (width * 3 + 3) / 4 * 4;
  std::string out = "BM";
  put_u32_le(out, 54 + stride * height);
  put_u32_le(out, 0);
  put_u32_le(out, 54);
  put_u32_le(out, 40);
  put_u32_le(out, width);
  put_u32_le(out, height);
  put_u16_le(out, 1);
  put_u16_le(out, 24);
  put_u32_le(out, 0);
  put_u32_le(out, stride * height);
  put_u32_le(out, 2835);
  put_u32_le(out, 2835);
  put_u32_le(out, 0);
  put_u32_le(out, 0);
  for (int y = height - 1; y >= 0; --y) {
    for (int x = 0; x < width; ++x) {
      const std::uint8_t* p = rgb.data() + (static_cast<std::size_t>(y) * width + x) * 3;
      out.push_back(static_cast<char>(p[2]));
      out.push_back(static_cast<char>(p[1]));
      out.push_back(static_cast<char>(p[0]));
    }
    out.append(stride - width * 3, '\0');
  }
  return out;
}

// Little-endian baseline TIFF: uncompressed 8-bit RGB, one strip, optional Orientation tag.
inline std::string make_tiff(int width, int height, const std::vector<std::uint8_t>& rgb,
                             int orientation = 0) {
  struct Entry {
    unsigned tag;
    unsigned type;  // 3 SHORT, 4 LONG
    std::uint32_t count;
    std::uint32_t value;
  };
  std::vector<Entry> entries = {{256, 4, 1, static_cast<std::uint32_t>(width)},
                                {257, 4, 1, static_cast<std::uint32_t>(height)},
                                {258, 3, 3, 0 /* offset, patched */},
                                {259, 3, 1, 1},
                                {262, 3, 1, 2},
                                {273, 4, 1, 0 /* patched */}};
  if (orientation != 0) entries.push_back({274, 3, 1, static_cast<std::uint32_t>(orientation)});
  entries.push_back({277, 3, 1, 3});
  entries.push_back({278, 4, 1, static_cast<std::uint32_t>(height)});
  entries.push_back({279, 4, 1, static_cast<std::uint32_t>(rgb.size())});
  entries.push_back({284, 3, 1, 1});
  const std::uint32_t ifd_size = 2 + 12 * static_cast<std::uint32_t>(entries.size()) + 4;
  const std::uint32_t bits_offset = 8 + ifd_size;
  const std::uint32_t data_offset = bits_offset + 6;
  std::string out = "II*";
  out.push_back('\0');
  put_u32_le(out, 8);
  put_u16_le(out, static_cast<unsigned>(entries.size()));
  for (auto e : entries) {
    if (e.tag == 258) e.value = bits_offset;
    if (e.tag == 273) e.value = data_offset;
    put_u16_le(out, e.tag);
    put_u16_le(out, e.type);
    put_u32_le(out, e.count);
    if (e.type == 3 && e.count == 1) {
      put_u16_le(out, e.value);
      put_u16_le(out, 0);
    } else {
      put_u32_le(out, e.value);
    }
  }
  put_u32_le(out, 0);
  for (int i = 0; i < 3; ++i) put_u16_le(out, 8);
  out.append(reinterpret_cast<const char*>(rgb.data()), rgb.size());
  return out;
}

// Inserts an APP1 EXIF segment holding only Orientation right after the JPEG's SOI marker.
inline std::string with_exif_orientation(const std::string& jpeg, int orientation) {
  std::string exif = std::string("Exif\0\0", 6) + std::string("MM\0\x2A", 4);
  put_u32_be(exif, 8);  // IFD0 offset
  put_u16_be(exif, 1);  // one entry
  put_u16_be(exif, 0x0112);
  put_u16_be(exif, 3);
  put_u32_be(exif, 1);
  put_u16_be(exif, static_cast<unsigned>(orientation));
  put_u16_be(exif, 0);
  put_u32_be(exif, 0);  // no next IFD
  std::string segment = "\xFF\xE1";
  put_u16_be(segment, static_cast<unsigned>(exif.size() + 2));
  return jpeg.substr(0, 2) + segment + exif + jpeg.substr(2);
}

}  // namespace lookalike::image::fixtures
