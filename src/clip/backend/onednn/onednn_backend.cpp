#include "clip/backend/onednn/onednn_backend.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace lookalike::clip {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using DataType = memory::data_type;

// Rows of x used to ask oneDNN for its preferred weight layout. The layout is then fixed, and
// products with any m use it.
constexpr int kLayoutProbeRows = 256;

class OnednnWeights final : public PackedWeights {
 public:
  int out_features() const override { return n_; }
  int in_features() const override { return k_; }
  std::size_t bytes() const override {
    return weights_.get_desc().get_size() + (has_bias_ ? n_ * 4 : 0);
  }

  int n_ = 0;
  int k_ = 0;
  bool has_bias_ = false;
  memory weights_;  // [k, n] logical, oneDNN's blocked layout, f32 or bf16
  memory bias_;     // [1, n] f32
};

}  // namespace

struct OnednnBackend::State {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  DataType compute_type = DataType::f32;
  std::mutex mutex;
  // (m, n, k, bias, epilogue, src type, dst type) → primitive. Shapes repeat (batch × tokens),
  // so this stays small; the packed layout depends only on (n, k), so equal keys always fit the
  // same weights.
  std::map<std::tuple<int, int, int, bool, Epilogue, DataType, DataType>, dnnl::matmul> primitives;
  // (m, k) → f32 → bf16 conversion of the input (bf16 precision only).
  std::map<std::pair<int, int>, dnnl::reorder> converters;

  dnnl::matmul::primitive_desc make_pd(int m, int n, int k, bool has_bias,
                                       const memory::desc& weights, Epilogue epilogue,
                                       DataType dst_type = DataType::f32) const {
    memory::desc src({m, k}, compute_type, Tag::ab);
    memory::desc dst({m, n}, dst_type, Tag::ab);
    memory::desc bias = has_bias ? memory::desc({1, n}, DataType::f32, Tag::ab) : memory::desc();
    dnnl::post_ops ops;
    switch (epilogue) {
      case Epilogue::kNone:
        break;
      case Epilogue::kQuickGelu:
        ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_swish, 1.702f, 0.0f);
        break;
      case Epilogue::kGelu:
        ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
        break;
      case Epilogue::kAccumulate:
        ops.append_sum(1.0f);
        break;
    }
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    dnnl::matmul::desc desc(src, weights, bias, dst);
    return dnnl::matmul::primitive_desc(desc, attr, engine);
  }
};

OnednnBackend::OnednnBackend(Precision precision)
    : precision_(precision), state_(std::make_unique<State>()) {
  state_->compute_type = precision == Precision::kBF16 ? DataType::bf16 : DataType::f32;
}

OnednnBackend::~OnednnBackend() = default;

std::unique_ptr<PackedWeights> OnednnBackend::pack(const float* weight, const float* bias, int n,
                                                   int k) {
  auto packed = std::make_unique<OnednnWeights>();
  packed->n_ = n;
  packed->k_ = k;
  packed->has_bias_ = bias != nullptr;
  memory::desc any({k, n}, state_->compute_type, Tag::any);
  auto pd = state_->make_pd(kLayoutProbeRows, n, k, packed->has_bias_, any, Epilogue::kNone);
  // W is [n, k] row-major, i.e. the [k, n] matrix Wᵀ in column-major order: tag "ba". The
  // reorder also converts to bf16 when that is the compute type.
  memory plain({{k, n}, DataType::f32, Tag::ba}, state_->engine, const_cast<float*>(weight));
  packed->weights_ = memory(pd.weights_desc(), state_->engine);
  dnnl::stream stream(state_->engine);
  dnnl::reorder(plain, packed->weights_).execute(stream, plain, packed->weights_);
  if (bias != nullptr) {
    packed->bias_ = memory({{1, n}, DataType::f32, Tag::ab}, state_->engine);
    std::copy(bias, bias + n, static_cast<float*>(packed->bias_.get_data_handle()));
  }
  stream.wait();
  return packed;
}

// Runs one product. x is float32 (converted first when the backend computes in bf16) or
// already in the compute type; y is written as y_type.
void OnednnBackend::run(const void* x, bool x_is_f32, int m, const PackedWeights& w, void* y,
                        bool y_is_f32, Epilogue epilogue) const {
  const auto& packed = static_cast<const OnednnWeights&>(w);
  const DataType compute = state_->compute_type;
  const bool convert = x_is_f32 && compute != DataType::f32;
  const DataType dst_type = y_is_f32 ? DataType::f32 : compute;
  dnnl::matmul primitive;
  dnnl::reorder converter;
  {
    std::lock_guard lock(state_->mutex);
    auto key =
        std::make_tuple(m, packed.n_, packed.k_, packed.has_bias_, epilogue, compute, dst_type);
    auto it = state_->primitives.find(key);
    if (it == state_->primitives.end()) {
      auto pd = state_->make_pd(m, packed.n_, packed.k_, packed.has_bias_,
                                packed.weights_.get_desc(), epilogue, dst_type);
      it = state_->primitives.emplace(key, dnnl::matmul(pd)).first;
    }
    primitive = it->second;
    if (convert) {
      auto conv = state_->converters.find({m, packed.k_});
      if (conv == state_->converters.end()) {
        dnnl::reorder::primitive_desc pd(
            state_->engine, memory::desc({m, packed.k_}, DataType::f32, Tag::ab), state_->engine,
            memory::desc({m, packed.k_}, compute, Tag::ab));
        conv = state_->converters.emplace(std::make_pair(m, packed.k_), dnnl::reorder(pd)).first;
      }
      converter = conv->second;
    }
  }
  dnnl::stream stream(state_->engine);
  memory src({{m, packed.k_}, x_is_f32 ? DataType::f32 : compute, Tag::ab}, state_->engine,
             const_cast<void*>(x));
  if (convert) {
    memory converted({{m, packed.k_}, compute, Tag::ab}, state_->engine);
    converter.execute(stream, src, converted);
    src = converted;
  }
  memory dst({{m, packed.n_}, dst_type, Tag::ab}, state_->engine, y);
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, packed.weights_}, {DNNL_ARG_DST, dst}};
  if (packed.has_bias_) args.emplace(DNNL_ARG_BIAS, packed.bias_);
  primitive.execute(stream, args);
  stream.wait();
}

void OnednnBackend::linear(const float* x, int m, const PackedWeights& w, float* y,
                           Epilogue epilogue) const {
  run(x, true, m, w, y, true, epilogue);
}

void OnednnBackend::mlp(const float* x, int m, const PackedWeights& fc1, const PackedWeights& fc2,
                        Epilogue activation, float* y) const {
  if (precision_ == Precision::kF32) {
    ComputeBackend::mlp(x, m, fc1, fc2, activation, y);
    return;
  }
  // The hidden activation (m × 3072 for ViT-B/32) stays bf16 between the two products.
  std::vector<std::uint16_t> hidden(static_cast<std::size_t>(m) * fc1.out_features());
  run(x, true, m, fc1, hidden.data(), false, activation);
  run(hidden.data(), false, m, fc2, y, true, Epilogue::kAccumulate);
}

}  // namespace lookalike::clip
