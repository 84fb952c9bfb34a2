#!/usr/bin/python3
"""A faithful pure-PyTorch CLIP forward pass (Hugging Face `CLIPModel` semantics).

This is the *reference / baseline* the Lookalike C++ engine is compared against.
It is a bench/ tool only (never part of the product) and depends on nothing but
Debian's python3-torch (1.13), python3-numpy and python3-pil: no `transformers`,
no `safetensors` package.

What it implements, mirroring transformers' modeling_clip.py:

* safetensors reader (8-byte LE header length, JSON header, F32/F16/BF16 tensors);
  every weight is converted to float32 and all compute is float32.
* vision tower: Conv2d patch embedding (no bias) -> prepend class_embedding ->
  + position_embedding -> pre_layrnorm -> N pre-LN encoder layers ->
  post_layernorm(token 0) -> visual_projection (no bias).
* text tower: token_embedding + position_embedding -> N pre-LN encoder layers with
  a causal mask (plus the padding mask when an attention_mask is given) ->
  final_layer_norm -> hidden at the first end token (id 49407 == argmax of ids,
  the "legacy" eos_token_id == 2 path of transformers) -> text_projection (no bias).
* encoder layer: x + attn(layer_norm1(x)); x + mlp(layer_norm2(x)); attention
  q/k/v/out projections with bias, scale head_dim**-0.5, softmax in float32;
  mlp fc1 -> act -> fc2, act = quick_gelu (x*sigmoid(1.702x)) or gelu (erf).
* CLIPImageProcessor preprocessing with Pillow: convert('RGB'), resize the
  shortest edge to 224 with BICUBIC (long edge int(224*long/short)), center crop
  224 ((H-224)//2, (W-224)//2), rescale (float64 multiply, then float32),
  normalise with image_mean/image_std in float32, HWC -> CHW.

`--check` verifies all of it against /work/shared/clip/conformance (both models,
pixel tensors and our own Pillow preprocessing, text embeddings), see README.md.
"""

import argparse
import json
import mmap
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

END_TOKEN_ID = 49407
START_TOKEN_ID = 49406
DEFAULT_CONFORMANCE = "/work/shared/clip/conformance"

# --------------------------------------------------------------------------------------
# safetensors
# --------------------------------------------------------------------------------------

_ST_DTYPES = {
    "F32": (np.float32, 4),
    "F16": (np.float16, 2),
    "BF16": (np.uint16, 2),  # widened by hand: numpy has no bfloat16
    "F64": (np.float64, 8),
}


def read_safetensors(path):
    """Return {name: float32 torch.Tensor} for every tensor in a .safetensors file.

    Layout: u64 little-endian N, N bytes of JSON header
    {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}},
    then the data block; offsets are relative to the start of the data block.
    The tensors returned own their memory (copied out of the mmap), as a
    Hugging Face model's parameters do after from_pretrained.
    """
    out = {}
    with open(path, "rb") as f:
        raw_len = f.read(8)
        if len(raw_len) != 8:
            raise ValueError(f"{path}: truncated safetensors header")
        (header_len,) = struct.unpack("<Q", raw_len)
        header = json.loads(f.read(header_len).decode("utf-8"))
        base = 8 + header_len
        size = os.fstat(f.fileno()).st_size
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            for name, info in header.items():
                if name == "__metadata__":
                    continue
                dtype = info["dtype"]
                if dtype not in _ST_DTYPES:
                    raise ValueError(f"{path}: tensor {name}: unsupported dtype {dtype}")
                np_dtype, width = _ST_DTYPES[dtype]
                shape = [int(d) for d in info["shape"]]
                begin, end = (int(x) for x in info["data_offsets"])
                count = int(np.prod(shape)) if shape else 1
                if end - begin != count * width or base + end > size or begin > end:
                    raise ValueError(f"{path}: tensor {name}: bad data_offsets {begin}..{end}")
                arr = np.frombuffer(mm, dtype=np_dtype, count=count, offset=base + begin)
                arr = arr.astype(np.dtype(np_dtype).newbyteorder("<"), copy=False)
                if dtype == "BF16":
                    arr = (arr.astype(np.uint32) << 16).view(np.float32)
                else:
                    arr = arr.astype(np.float32)  # copies (also for F32): owned memory
                out[name] = torch.from_numpy(arr.reshape(shape))
                del arr
        finally:
            mm.close()
    return out


def write_safetensors(path, tensors, metadata=None):
    """Write {name: tensor} as an F32 safetensors file (used for random test models)."""
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    offset = 0
    items = sorted(tensors.items())
    for name, t in items:
        n = t.numel() * 4
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + n]}
        offset += n
    hdr = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hdr += b" " * ((8 - len(hdr) % 8) % 8)  # keep the data block 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hdr)))
        f.write(hdr)
        for _, t in items:
            f.write(t.detach().to(torch.float32).contiguous().numpy().tobytes())


# --------------------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------------------


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


def gelu_erf(x):
    return F.gelu(x)  # exact (erf) GELU == transformers' "gelu"


_ACTS = {
    "quick_gelu": quick_gelu,
    "gelu": gelu_erf,
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
}


class Tower:
    """The shared pre-LN transformer encoder of either tower."""

    def __init__(self, w, prefix, cfg):
        self.hidden = int(cfg["hidden_size"])
        self.heads = int(cfg["num_attention_heads"])
        self.head_dim = self.hidden // self.heads
        if self.head_dim * self.heads != self.hidden:
            raise ValueError(f"{prefix}: hidden_size not divisible by num_attention_heads")
        self.scale = self.head_dim ** -0.5
        self.eps = float(cfg.get("layer_norm_eps", 1e-5))
        act = cfg.get("hidden_act", "quick_gelu")
        if act not in _ACTS:
            raise ValueError(f"unsupported hidden_act {act!r}")
        self.act = _ACTS[act]
        self.layers = []
        for i in range(int(cfg["num_hidden_layers"])):
            p = f"{prefix}.encoder.layers.{i}."
            g = lambda k: w[p + k]  # noqa: E731
            self.layers.append({
                "ln1_w": g("layer_norm1.weight"), "ln1_b": g("layer_norm1.bias"),
                "q_w": g("self_attn.q_proj.weight"), "q_b": g("self_attn.q_proj.bias"),
                "k_w": g("self_attn.k_proj.weight"), "k_b": g("self_attn.k_proj.bias"),
                "v_w": g("self_attn.v_proj.weight"), "v_b": g("self_attn.v_proj.bias"),
                "o_w": g("self_attn.out_proj.weight"), "o_b": g("self_attn.out_proj.bias"),
                "ln2_w": g("layer_norm2.weight"), "ln2_b": g("layer_norm2.bias"),
                "fc1_w": g("mlp.fc1.weight"), "fc1_b": g("mlp.fc1.bias"),
                "fc2_w": g("mlp.fc2.weight"), "fc2_b": g("mlp.fc2.bias"),
            })

    def ln(self, x, wt, b):
        return F.layer_norm(x, (self.hidden,), wt, b, self.eps)

    def attention(self, x, L, mask):
        # transformers CLIPAttention (eager path): separate q/k/v projections,
        # (q @ k^T) * scale + additive mask, softmax in float32, @ v, out_proj.
        B, T, C = x.shape
        q = F.linear(x, L["q_w"], L["q_b"]).view(B, T, self.heads, self.head_dim).transpose(1, 2)
        k = F.linear(x, L["k_w"], L["k_b"]).view(B, T, self.heads, self.head_dim).transpose(1, 2)
        v = F.linear(x, L["v_w"], L["v_b"]).view(B, T, self.heads, self.head_dim).transpose(1, 2)
        a = torch.matmul(q, k.transpose(2, 3)) * self.scale
        if mask is not None:
            a = a + mask
        a = torch.softmax(a, dim=-1, dtype=torch.float32)
        o = torch.matmul(a, v).transpose(1, 2).reshape(B, T, C)
        return F.linear(o, L["o_w"], L["o_b"])

    def encode(self, x, mask=None):
        for L in self.layers:
            x = x + self.attention(self.ln(x, L["ln1_w"], L["ln1_b"]), L, mask)
            h = self.ln(x, L["ln2_w"], L["ln2_b"])
            h = F.linear(self.act(F.linear(h, L["fc1_w"], L["fc1_b"])), L["fc2_w"], L["fc2_b"])
            x = x + h
        return x


class CLIP:
    """CLIPModel.get_image_features / get_text_features, float32, no autograd state."""

    def __init__(self, weights, config, preprocessor=None):
        self.config = config
        self.preprocessor = preprocessor or {}
        self.n_params = int(sum(t.numel() for t in weights.values()))
        w = weights
        vc, tc = config["vision_config"], config["text_config"]
        self.vcfg, self.tcfg = vc, tc
        # vision
        self.patch = int(vc["patch_size"])
        self.image_size = int(vc["image_size"])
        self.v_patch_w = w["vision_model.embeddings.patch_embedding.weight"]
        self.v_cls = w["vision_model.embeddings.class_embedding"]
        self.v_pos = w["vision_model.embeddings.position_embedding.weight"]
        self.v_pre_w = w["vision_model.pre_layrnorm.weight"]
        self.v_pre_b = w["vision_model.pre_layrnorm.bias"]
        self.v_post_w = w["vision_model.post_layernorm.weight"]
        self.v_post_b = w["vision_model.post_layernorm.bias"]
        self.v_proj = w["visual_projection.weight"]
        self.vision = Tower(w, "vision_model", vc)
        # text
        self.t_tok = w["text_model.embeddings.token_embedding.weight"]
        self.t_pos = w["text_model.embeddings.position_embedding.weight"]
        self.t_final_w = w["text_model.final_layer_norm.weight"]
        self.t_final_b = w["text_model.final_layer_norm.bias"]
        self.t_proj = w["text_projection.weight"]
        self.text = Tower(w, "text_model", tc)
        self.eos_token_id = int(tc.get("eos_token_id", 2))
        n_pos = (self.image_size // self.patch) ** 2 + 1
        if self.v_pos.shape[0] != n_pos:
            raise ValueError(f"vision position_embedding has {self.v_pos.shape[0]} rows, expected {n_pos}")

    @classmethod
    def from_pretrained(cls, model_dir):
        with open(os.path.join(model_dir, "config.json")) as f:
            config = json.load(f)
        pp = None
        pp_path = os.path.join(model_dir, "preprocessor_config.json")
        if os.path.exists(pp_path):
            with open(pp_path) as f:
                pp = json.load(f)
        weights = read_safetensors(os.path.join(model_dir, "model.safetensors"))
        return cls(weights, config, pp)

    # ---- image ----------------------------------------------------------------------
    def encode_image(self, pixels):
        """pixels: float32 [B, 3, H, W] (already preprocessed) -> raw embeddings [B, proj]."""
        pixels = pixels.to(torch.float32)
        B = pixels.shape[0]
        x = F.conv2d(pixels, self.v_patch_w, stride=self.patch)  # [B, C, g, g], no bias
        x = x.flatten(2).transpose(1, 2)  # [B, g*g, C]
        cls = self.v_cls.expand(B, 1, -1)
        x = torch.cat([cls, x], dim=1) + self.v_pos.unsqueeze(0)
        x = F.layer_norm(x, (x.shape[-1],), self.v_pre_w, self.v_pre_b, self.vision.eps)
        x = self.vision.encode(x)
        pooled = x[:, 0, :]
        pooled = F.layer_norm(pooled, (pooled.shape[-1],), self.v_post_w, self.v_post_b, self.vision.eps)
        return F.linear(pooled, self.v_proj)

    # ---- text -----------------------------------------------------------------------
    def encode_text(self, ids, attention_mask=None):
        """ids: int64 [B, T] (with start/end tokens, optionally padded) -> raw embeddings [B, proj]."""
        ids = torch.as_tensor(ids, dtype=torch.long)
        if ids.dim() == 1:
            ids = ids.unsqueeze(0)
        B, T = ids.shape
        x = F.embedding(ids, self.t_tok) + self.t_pos[:T].unsqueeze(0)
        # causal mask (+ padding mask), additive with the dtype minimum as transformers does
        neg = torch.finfo(torch.float32).min
        mask = torch.full((T, T), neg, dtype=torch.float32).triu(1).view(1, 1, T, T)
        if attention_mask is not None:
            am = torch.as_tensor(attention_mask, dtype=torch.float32).view(B, 1, 1, T)
            mask = mask + (1.0 - am) * neg
        x = self.text.encode(x, mask)
        x = F.layer_norm(x, (x.shape[-1],), self.t_final_w, self.t_final_b, self.text.eps)
        if self.eos_token_id == 2:
            # legacy path (all OpenAI CLIP configs): the end token has the highest id
            eos = ids.to(torch.int).argmax(dim=-1)
        else:
            eos = (ids == self.eos_token_id).int().argmax(dim=-1)
        pooled = x[torch.arange(B), eos]
        return F.linear(pooled, self.t_proj)


def pad_ids(ids, length=77, pad_id=END_TOKEN_ID):
    """HF tokenizer padding='max_length' for CLIP: pad with <|endoftext|>, mask 0."""
    ids = list(ids)[:length]
    mask = [1] * len(ids) + [0] * (length - len(ids))
    return ids + [pad_id] * (length - len(ids)), mask


# --------------------------------------------------------------------------------------
# preprocessing (transformers CLIPImageProcessor, Pillow backend)
# --------------------------------------------------------------------------------------

_DEFAULT_PP = {
    "size": {"shortest_edge": 224},
    "crop_size": {"height": 224, "width": 224},
    "resample": 3,
    "rescale_factor": 1 / 255,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "do_resize": True, "do_center_crop": True, "do_rescale": True,
    "do_normalize": True, "do_convert_rgb": True,
}


def preprocess(img, pp=None):
    """PIL image -> float32 numpy [3, crop_h, crop_w]."""
    cfg = dict(_DEFAULT_PP)
    if pp:
        cfg.update(pp)
    if cfg["do_convert_rgb"] and img.mode != "RGB":
        img = img.convert("RGB")
    if cfg["do_resize"]:
        size = cfg["size"]
        short_target = size["shortest_edge"] if isinstance(size, dict) else int(size)
        w, h = img.size
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = short_target, int(short_target * long / short)
        new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
        img = img.resize((new_w, new_h), resample=int(cfg["resample"]), reducing_gap=None)
    arr = np.asarray(img)  # uint8 HWC
    if cfg["do_center_crop"]:
        ch, cw = cfg["crop_size"]["height"], cfg["crop_size"]["width"]
        H, W = arr.shape[:2]
        if H < ch or W < cw:
            raise ValueError("image smaller than crop size after resize")
        top, left = (H - ch) // 2, (W - cw) // 2
        arr = arr[top:top + ch, left:left + cw]
    x = arr
    if cfg["do_rescale"]:
        x = (x.astype(np.float64) * float(cfg["rescale_factor"])).astype(np.float32)
    else:
        x = x.astype(np.float32)
    if cfg["do_normalize"]:
        mean = np.array(cfg["image_mean"], dtype=np.float32)
        std = np.array(cfg["image_std"], dtype=np.float32)
        x = (x - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def load_image(path_or_file, pp=None):
    with Image.open(path_or_file) as im:
        im.load()
        return preprocess(im, pp)


# --------------------------------------------------------------------------------------
# --check: conformance against the independent reference
# --------------------------------------------------------------------------------------


def _cos(a, b):
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def run_check(conf_dir, verbose=False):
    with open(os.path.join(conf_dir, "expected.json")) as f:
        exp = json.load(f)
    tol = exp.get("tolerances", {})
    img_min_req = float(tol.get("image_cosine_min", 0.99999))
    txt_min_req = float(tol.get("text_cosine_min", 0.99999))
    tok = {t["text"]: t["ids"] for t in exp["tokenizer"]}
    ok = True
    report = {"models": {}, "pixels": {}}

    # our Pillow preprocessing vs the reference pixel tensors
    ours = {}
    pix_max = pix_mean_worst = 0.0
    for name, info in exp["pixels"].items():
        ref = np.fromfile(os.path.join(conf_dir, info["file"]), dtype="<f4").reshape(info["shape"])
        mine = load_image(os.path.join(conf_dir, "images", name))
        ours[name] = mine
        d = np.abs(ref - mine)
        report["pixels"][name] = {"max_abs": float(d.max()), "mean_abs": float(d.mean())}
        pix_max = max(pix_max, float(d.max()))
        pix_mean_worst = max(pix_mean_worst, float(d.mean()))
    pix_ok = pix_max <= tol.get("pixel_max_abs", 0.04) and pix_mean_worst <= tol.get("pixel_mean_abs", 0.002)
    ok &= pix_ok
    print(f"pixels: {len(ours)} images, our Pillow preprocessing vs reference tensors: "
          f"max_abs {pix_max:.3g}, worst mean_abs {pix_mean_worst:.3g}  {'OK' if pix_ok else 'FAIL'}")

    for mname, mexp in exp["models"].items():
        model = CLIP.from_pretrained(os.path.join(conf_dir, "models", mname))
        r = {}
        with torch.inference_mode():
            # images, from the reference tensors and from our own preprocessing
            names = list(mexp["images"].keys())
            ref_px = torch.stack([torch.from_numpy(np.fromfile(
                os.path.join(conf_dir, exp["pixels"][n]["file"]), dtype="<f4").reshape(3, 224, 224))
                for n in names])
            own_px = torch.stack([torch.from_numpy(ours[n]) for n in names])
            e_ref = model.encode_image(ref_px).numpy()
            e_own = model.encode_image(own_px).numpy()
            # batch-1 must equal batched
            e_one = np.stack([model.encode_image(ref_px[i:i + 1]).numpy()[0] for i in range(len(names))])
            c_ref = [_cos(e_ref[i], mexp["images"][n]) for i, n in enumerate(names)]
            c_own = [_cos(e_own[i], mexp["images"][n]) for i, n in enumerate(names)]
            c_one = [_cos(e_one[i], mexp["images"][n]) for i, n in enumerate(names)]
            # decode-only images must go through without error
            for n in exp.get("decode_only", []):
                e = model.encode_image(torch.from_numpy(load_image(os.path.join(conf_dir, "images", n)))[None])
                if not torch.isfinite(e).all():
                    ok = False
                    print(f"  {mname}: decode-only {n}: non-finite embedding  FAIL")
            # texts: exact ids, and padded to 77 with an attention mask (HF max_length padding)
            texts = mexp["texts"]
            c_txt, c_pad = [], []
            for t in texts:
                ids = tok[t["text"]]
                e = model.encode_text(torch.tensor([ids])).numpy()[0]
                pids, pmask = pad_ids(ids)
                ep = model.encode_text(torch.tensor([pids]), torch.tensor([pmask])).numpy()[0]
                c_txt.append(_cos(e, t["embedding"]))
                c_pad.append(_cos(ep, t["embedding"]))
        r = {
            "image_from_ref_pixels_min_cos": min(c_ref),
            "image_from_own_preprocess_min_cos": min(c_own),
            "image_batch1_min_cos": min(c_one),
            "text_min_cos": min(c_txt),
            "text_padded77_min_cos": min(c_pad),
            "n_images": len(names), "n_texts": len(texts),
            "max_abs_image_from_ref": float(np.max(np.abs(e_ref - np.array([mexp["images"][n] for n in names])))),
        }
        mok = (min(c_ref) >= img_min_req and min(c_own) >= img_min_req and min(c_one) >= img_min_req
               and min(c_txt) >= txt_min_req and min(c_pad) >= txt_min_req)
        ok &= mok
        report["models"][mname] = r
        act = model.vcfg.get("hidden_act")
        print(f"{mname} ({act}, patch {model.patch}, {len(model.vision.layers)}+{len(model.text.layers)} layers):")
        f = lambda c: f"min cos {min(c):.9f} (1-cos {1 - min(c):.1e})"  # noqa: E731
        print(f"  images from reference pixels : {f(c_ref)}  ({len(names)} images, "
              f"max |diff| {r['max_abs_image_from_ref']:.2e})")
        print(f"  images from own preprocessing: {f(c_own)}")
        print(f"  images batch-1               : {f(c_one)}")
        print(f"  texts (exact ids)            : {f(c_txt)}  ({len(texts)} texts)")
        print(f"  texts (padded to 77 + mask)  : {f(c_pad)}")
        print(f"  -> {'OK' if mok else 'FAIL'} (required image >= {img_min_req}, text >= {txt_min_req})")
        if verbose:
            for n, a, b in zip(names, c_ref, c_own):
                print(f"    {n:28s} ref-pixels {a:.9f}  own-pixels {b:.9f}")
    print("CHECK", "PASSED" if ok else "FAILED")
    report["passed"] = bool(ok)
    return ok, report


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="verify against the conformance vectors")
    ap.add_argument("--conformance", default=DEFAULT_CONFORMANCE)
    ap.add_argument("--model", help="HF CLIP model dir: embed --image files and/or --ids")
    ap.add_argument("--image", action="append", default=[])
    ap.add_argument("--ids", action="append", default=[], help="comma-separated token ids")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    if a.check:
        ok, rep = run_check(a.conformance, a.verbose)
        if a.json:
            print(json.dumps(rep, indent=1))
        return 0 if ok else 1
    if not a.model:
        ap.error("give --check or --model")
    m = CLIP.from_pretrained(a.model)
    out = {}
    with torch.inference_mode():
        for p in a.image:
            out[p] = m.encode_image(torch.from_numpy(load_image(p, m.preprocessor))[None])[0].tolist()
        for s in a.ids:
            out[s] = m.encode_text(torch.tensor([[int(x) for x in s.split(",")]]))[0].tolist()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
