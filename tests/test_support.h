// Helpers every test binary shares: a fresh temp directory per test, the ../shared paths, and
// running the real `lookalike` binary for black-box tests.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/result.h"

namespace lookalike::testing {

// ../shared (LOOKALIKE_SHARED_DIR at build time, overridable with the env var of the same name).
std::filesystem::path shared_dir();
std::filesystem::path conformance_dir();  // shared/clip/conformance
std::filesystem::path vocab_dir();        // shared/clip/vocab
std::filesystem::path lookalike_binary();

// A directory created fresh for one test and removed with it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv (no shell) and collects stdout, stderr and the exit code. With `kill_after`, the
// process gets SIGKILL after that long if it is still running (exit code 128 + 9 then).
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds kill_after = std::chrono::milliseconds(0));

// A TCP port on 127.0.0.1 that was free a moment ago (bound and released); servers started on it
// should retry on a clash.
Result<int> free_port();

// Cosine similarity of two equally long vectors, in double precision.
double cosine(const std::vector<float>& a, const std::vector<float>& b);

// Writes bytes to a file (test fixtures).
void write_bytes(const std::filesystem::path& path, const std::string& bytes);
std::string read_bytes(const std::filesystem::path& path);

}  // namespace lookalike::testing
