#!/usr/bin/python3
"""PyTorch CPU baseline benchmark for CLIP (the numbers the C++ engine is compared with).

Uses bench/torch_clip.py (faithful HF CLIPModel semantics, float32) and measures, for
each thread count: image-embedding throughput at batch N from preprocessed tensors,
the whole pipeline (Pillow JPEG decode + preprocess + embed), batch-1 image latency,
one-query text latency (unpadded and padded to 77), and model load time.

    /usr/bin/python3 bench/torch_bench.py --random-vit-b32 --threads 1 2
    /usr/bin/python3 bench/torch_bench.py --model DIR --threads 1 2 --json

See bench/README.md for what every number means.
"""

import argparse
import ctypes
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image

sys.dont_write_bytecode = True  # keep bench/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_clip  # noqa: E402

DEFAULT_CONFIG = "/work/shared/clip/vocab/config.json"
DEFAULT_EXPECTED = "/work/shared/clip/conformance/expected.json"
DEFAULT_QUERY = "red leather handbag with gold chain"

# --------------------------------------------------------------------------------------
# threads. Debian's torch (BLAS_INFO=generic) runs every Linear/matmul through OpenBLAS
# (pthreads build); torch.set_num_threads only drives OpenMP (ATen element-wise ops,
# LayerNorm, softmax, oneDNN conv). OpenBLAS must be told separately, and the two pools
# must not both be N wide: libgomp workers spin-wait after each op while OpenBLAS's
# worker runs, so on 2 cores "2+2" is slower than 1 thread (measured: batch-1 image
# 430 ms vs 150 ms). Modes:
#   blas  (default) OpenBLAS N threads, torch.set_num_threads(1): GEMMs (~97% of the
#         FLOPs) use N cores, the rest runs on the calling thread. Best measured config.
#   both  torch.set_num_threads(N) and OpenBLAS N (shows the oversubscription; set
#         OMP_WAIT_POLICY=PASSIVE in the environment to tame it).
#   torch torch.set_num_threads(N) only; OpenBLAS keeps its default (all cores), which
#         is what a plain `import torch` user gets.
# --------------------------------------------------------------------------------------

THREAD_MODES = ("blas", "both", "torch")


def _openblas_handles():
    libs = []
    for name in ("libopenblas.so.0", "libblas.so.3"):
        try:
            lib = ctypes.CDLL(name, mode=getattr(os, "RTLD_NOLOAD", 4) | ctypes.RTLD_GLOBAL)
        except OSError:
            continue
        if hasattr(lib, "openblas_set_num_threads"):
            lib.openblas_get_num_threads.restype = ctypes.c_int
            libs.append((name, lib))
    return libs


def set_threads(n, mode="blas"):
    if mode not in THREAD_MODES:
        raise ValueError(f"thread mode {mode!r}")
    torch.set_num_threads(1 if mode == "blas" else n)
    blas = {}
    for name, lib in _openblas_handles():
        if mode != "torch":
            lib.openblas_set_num_threads(ctypes.c_int(n))
        blas[name] = lib.openblas_get_num_threads()
    return {"mode": mode, "torch": torch.get_num_threads(), "openblas": blas}


def openblas_config():
    for _, lib in _openblas_handles():
        if hasattr(lib, "openblas_get_config"):
            lib.openblas_get_config.restype = ctypes.c_char_p
            return lib.openblas_get_config().decode()
    return None


# --------------------------------------------------------------------------------------
# random full-size model
# --------------------------------------------------------------------------------------


def random_clip_weights(config, seed=0):
    """Tensors with the exact HF names/shapes for `config`, HF-like init (std 0.02)."""
    g = torch.Generator().manual_seed(seed)
    vc, tc = config["vision_config"], config["text_config"]
    proj = int(config.get("projection_dim", vc.get("projection_dim", 512)))
    w = {}

    def rnd(*shape, std=0.02):
        return torch.randn(*shape, generator=g) * std

    def tower(prefix, c):
        h, m = int(c["hidden_size"]), int(c["intermediate_size"])
        for i in range(int(c["num_hidden_layers"])):
            p = f"{prefix}.encoder.layers.{i}."
            for ln in ("layer_norm1", "layer_norm2"):
                w[p + ln + ".weight"] = torch.ones(h)
                w[p + ln + ".bias"] = torch.zeros(h)
            for k in ("q_proj", "k_proj", "v_proj", "out_proj"):
                w[p + f"self_attn.{k}.weight"] = rnd(h, h)
                w[p + f"self_attn.{k}.bias"] = rnd(h)
            w[p + "mlp.fc1.weight"] = rnd(m, h)
            w[p + "mlp.fc1.bias"] = rnd(m)
            w[p + "mlp.fc2.weight"] = rnd(h, m)
            w[p + "mlp.fc2.bias"] = rnd(h)

    vh, th = int(vc["hidden_size"]), int(tc["hidden_size"])
    ps, isz = int(vc["patch_size"]), int(vc["image_size"])
    w["vision_model.embeddings.class_embedding"] = rnd(vh)
    w["vision_model.embeddings.patch_embedding.weight"] = rnd(vh, int(vc.get("num_channels", 3)), ps, ps)
    w["vision_model.embeddings.position_embedding.weight"] = rnd((isz // ps) ** 2 + 1, vh)
    for n in ("pre_layrnorm", "post_layernorm"):
        w[f"vision_model.{n}.weight"] = torch.ones(vh)
        w[f"vision_model.{n}.bias"] = torch.zeros(vh)
    tower("vision_model", vc)
    w["visual_projection.weight"] = rnd(proj, vh)
    w["text_model.embeddings.token_embedding.weight"] = rnd(int(tc["vocab_size"]), th)
    w["text_model.embeddings.position_embedding.weight"] = rnd(int(tc["max_position_embeddings"]), th)
    w["text_model.final_layer_norm.weight"] = torch.ones(th)
    w["text_model.final_layer_norm.bias"] = torch.zeros(th)
    tower("text_model", tc)
    w["text_projection.weight"] = rnd(proj, th)
    w["logit_scale"] = torch.tensor(float(config.get("logit_scale_init_value", 2.6592)))
    return w


def make_random_model_dir(out_dir, config_path, preproc_path, seed):
    with open(config_path) as f:
        config = json.load(f)
    os.makedirs(out_dir, exist_ok=True)
    w = random_clip_weights(config, seed)
    torch_clip.write_safetensors(os.path.join(out_dir, "model.safetensors"), w, {"format": "pt"})
    shutil.copy(config_path, os.path.join(out_dir, "config.json"))
    if preproc_path and os.path.exists(preproc_path):
        shutil.copy(preproc_path, os.path.join(out_dir, "preprocessor_config.json"))
    return sum(t.numel() for t in w.values())


# --------------------------------------------------------------------------------------
# workload helpers
# --------------------------------------------------------------------------------------


def make_jpeg(w=640, h=480, quality=90, seed=1):
    """A photo-like 640x480 JPEG: smooth gradients, blobs and mild sensor noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([
        120 + 80 * np.sin(x / 57.0) * np.cos(y / 41.0),
        110 + 70 * np.cos((x + y) / 73.0),
        100 + 60 * np.sin(np.hypot(x - w / 2, y - h / 2) / 29.0),
    ], axis=-1)
    for _ in range(12):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(20, 120)
        col = rng.uniform(0, 255, 3)
        m = ((x - cx) ** 2 + (y - cy) ** 2) < r * r
        img[m] = 0.5 * img[m] + 0.5 * col
    img += rng.normal(0, 6, img.shape)
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def decode_preprocess(jpeg, pp):
    with Image.open(io.BytesIO(jpeg)) as im:
        im.load()
        return torch_clip.preprocess(im, pp)


def query_ids(text, expected_path):
    with open(expected_path) as f:
        exp = json.load(f)
    for t in exp["tokenizer"]:
        if t["text"] == text:
            return list(t["ids"])
    raise SystemExit(f"query {text!r} not in {expected_path} tokenizer list; pick one of them")


def pct(samples_s):
    a = np.array(samples_s) * 1e3
    return {"p50_ms": float(np.percentile(a, 50)), "p90_ms": float(np.percentile(a, 90)),
            "p99_ms": float(np.percentile(a, 99)), "mean_ms": float(a.mean()),
            "min_ms": float(a.min()), "max_ms": float(a.max()), "n": len(a)}


def flops(model, text_len):
    """Forward FLOPs (2*MAC) of one image and of one text of text_len tokens."""
    def tower(cfg, T):
        h, m, L = int(cfg["hidden_size"]), int(cfg["intermediate_size"]), int(cfg["num_hidden_layers"])
        per_layer = T * (4 * h * h + 2 * h * m) + 2 * T * T * h
        return 2 * L * per_layer
    vc, tc = model.vcfg, model.tcfg
    g = model.image_size // model.patch
    vh = int(vc["hidden_size"])
    patch = 2 * g * g * vh * 3 * model.patch * model.patch
    img = patch + tower(vc, g * g + 1) + 2 * vh * model.v_proj.shape[0]
    txt = tower(tc, text_len) + 2 * int(tc["hidden_size"]) * model.t_proj.shape[0]
    return img, txt


# --------------------------------------------------------------------------------------
# measurement
# --------------------------------------------------------------------------------------


def _cpu_snapshot():
    """(wall, busy CPU-seconds of the whole machine, CPU-seconds of this process)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    busy = (sum(v[:7]) - v[3] - v[4]) / hz  # user nice system irq softirq (not idle, iowait, steal)
    steal = (v[7] if len(v) > 7 else 0) / hz  # time the hypervisor gave our vCPUs to someone else
    t = os.times()
    return time.perf_counter(), busy, t.user + t.system, steal


def other_cpu(s0, s1):
    """Average number of cores other processes kept busy between two snapshots."""
    wall = s1[0] - s0[0]
    return max(0.0, ((s1[1] - s0[1]) - (s1[2] - s0[2])) / wall) if wall > 0 else 0.0


def wait_idle(max_s, threshold=0.15, quiet_s=3):
    """Wait up to max_s seconds until other processes use < threshold cores for quiet_s seconds."""
    t0 = time.perf_counter()
    quiet = 0
    while time.perf_counter() - t0 < max_s:
        s0 = _cpu_snapshot()
        time.sleep(1.0)
        quiet = quiet + 1 if other_cpu(s0, _cpu_snapshot()) < threshold else 0
        if quiet >= quiet_s:
            return {"waited_s": time.perf_counter() - t0, "idle": True}
    return {"waited_s": time.perf_counter() - t0, "idle": max_s <= 0}


def bench_threads(model, n, a, jpeg, px1, ids, pad_ids, pad_mask, img_flops):
    res = {"threads": n}
    if a.wait_idle > 0:
        res["wait_idle"] = wait_idle(a.wait_idle)
    res["threads_set"] = set_threads(n, a.thread_mode)
    snap0 = _cpu_snapshot()
    B = a.batch
    px = px1.unsqueeze(0).expand(B, -1, -1, -1).contiguous()
    pp = model.preprocessor
    with torch.inference_mode():
        # 1. image throughput from preprocessed tensors
        for _ in range(a.warmup):
            model.encode_image(px)
        times = []
        for _ in range(a.image_batches):
            t0 = time.perf_counter()
            model.encode_image(px)
            times.append(time.perf_counter() - t0)
        tot = sum(times)
        res["image_tensor"] = {
            "batch": B, "batches": len(times), "images_per_s": B * len(times) / tot,
            "ms_per_image": 1e3 * tot / (B * len(times)), "batch_ms": pct(times),
            "gflops_per_s": img_flops * B * len(times) / tot / 1e9}
        # 2. whole pipeline: JPEG bytes -> Pillow decode -> preprocess -> stack -> embed
        decode_preprocess(jpeg, pp)
        pre, emb = [], []
        t_all = time.perf_counter()
        for _ in range(a.image_batches):
            t0 = time.perf_counter()
            batch = torch.from_numpy(np.stack([decode_preprocess(jpeg, pp) for _ in range(B)]))
            t1 = time.perf_counter()
            model.encode_image(batch)
            t2 = time.perf_counter()
            pre.append(t1 - t0)
            emb.append(t2 - t1)
        tot = time.perf_counter() - t_all
        res["image_pipeline"] = {
            "batch": B, "batches": a.image_batches, "images_per_s": B * a.image_batches / tot,
            "ms_per_image": 1e3 * tot / (B * a.image_batches),
            "decode_preprocess_ms_per_image": 1e3 * sum(pre) / (B * a.image_batches),
            "embed_ms_per_image": 1e3 * sum(emb) / (B * a.image_batches)}
        # 3. batch-1 image latency (query-by-image)
        one = px1.unsqueeze(0)
        for _ in range(2):
            model.encode_image(one)
        lat = []
        for _ in range(a.image_latency_iters):
            t0 = time.perf_counter()
            model.encode_image(one)
            lat.append(time.perf_counter() - t0)
        res["image_b1_latency"] = pct(lat)
        # 4. text query latency, batch 1: exact length and padded to 77 (+ attention mask)
        for key, mk in (("text_unpadded", lambda: (torch.tensor([ids]), None)),
                        ("text_padded77", lambda: (torch.tensor([pad_ids]), torch.tensor([pad_mask])))):
            for _ in range(a.text_warmup):
                model.encode_text(*mk())
            lat = []
            for _ in range(a.text_iters):
                t0 = time.perf_counter()
                model.encode_text(*mk())
                lat.append(time.perf_counter() - t0)
            res[key] = pct(lat)
            res[key]["tokens"] = len(ids) if key == "text_unpadded" else len(pad_ids)
    snap1 = _cpu_snapshot()
    res["other_processes_cores"] = other_cpu(snap0, snap1)
    res["own_cpu_cores"] = (snap1[2] - snap0[2]) / (snap1[0] - snap0[0])
    res["steal_cores"] = (snap1[3] - snap0[3]) / (snap1[0] - snap0[0])
    res["wall_s"] = snap1[0] - snap0[0]
    return res


def env_info():
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
        except Exception:
            return None
    pinfo = torch.__config__.parallel_info()
    keep = [ln.strip() for ln in pinfo.splitlines()
            if any(k in ln for k in ("get_num_threads", "get_num_interop", "omp_get_max", "backend",
                                     "OpenMP 20", "MKL", "hardware_concurrency",
                                     "OMP_NUM_THREADS"))]
    cpu = sh("lscpu | grep 'Model name'")
    return {
        "nproc": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
        "cpu": cpu.split(":", 1)[1].strip() if cpu and ":" in cpu else platform.processor(),
        "torch": torch.__version__, "numpy": np.__version__, "pillow": Image.__version__,
        "python": platform.python_version(), "parallel_info": keep,
        "cpu_capability": next((ln.split(":", 1)[1].strip() for ln in torch.__config__.show().splitlines()
                                if "CPU capability usage" in ln), None),
        "openblas": openblas_config(),
        "openblas_threads_default": {n: lib.openblas_get_num_threads() for n, lib in _openblas_handles()},
        "torch_threads_default": torch.get_num_threads(),
        "thread_env": {k: v for k, v in os.environ.items()
                       if k.startswith(("OMP_", "GOMP_", "OPENBLAS_", "MKL_", "KMP_"))},
    }


def fmt_table(r):
    e, th = r["env"], r["results"]
    out = []
    out.append(f"PyTorch CLIP baseline: {r['model']['name']} (float32 compute)")
    out.append(f"  torch {e['torch']} ({e['cpu_capability']}), {e['openblas']}")
    out.append(f"  CPU: {e['cpu']}, nproc {e['nproc']}; load avg before {r['loadavg_before']} after {r['loadavg_after']}")
    m = r["model"]
    out.append(f"  model load: {r['load_s']:.3f} s (all: {', '.join(f'{t:.3f}' for t in r['load_s_all'])}; {m['file_mb']:.0f} MB safetensors, {m['params'] / 1e6:.1f} M params, "
               f"warm page cache); {r['model']['image_gflop']:.2f} GFLOP/image, "
               f"text {r['model']['text_gflop_unpadded']:.3f}/{r['model']['text_gflop_padded']:.3f} GFLOP "
               f"({th[0]['text_unpadded']['tokens']}/77 tokens)")
    out.append(f"  query: {r['query']!r} ids {r['query_ids']}")
    out.append(f"  threads: mode {r['thread_mode']!r} -> " + "; ".join(
        f"{x['threads']}: torch {x['threads_set']['torch']}, openblas {max(x['threads_set']['openblas'].values(), default='?')}"
        for x in th) + (f"; env {e['thread_env']}" if e.get("thread_env") else ""))
    cols = [f"{x['threads']} thr" for x in th]
    rows = [
        (f"image embed, tensors, batch {r['batch']} (img/s)", lambda x: f"{x['image_tensor']['images_per_s']:.2f}"),
        ("  ms/image", lambda x: f"{x['image_tensor']['ms_per_image']:.1f}"),
        ("  achieved GFLOP/s", lambda x: f"{x['image_tensor']['gflops_per_s']:.0f}"),
        (f"pipeline JPEG 640x480 -> emb, batch {r['batch']} (img/s)", lambda x: f"{x['image_pipeline']['images_per_s']:.2f}"),
        ("  decode+preprocess ms/image (1 thr, PIL)", lambda x: f"{x['image_pipeline']['decode_preprocess_ms_per_image']:.2f}"),
        ("image batch-1 latency p50 (ms)", lambda x: f"{x['image_b1_latency']['p50_ms']:.1f}"),
        ("text query unpadded p50/p90/p99 (ms)", lambda x: "/".join(f"{x['text_unpadded'][k]:.1f}" for k in ("p50_ms", "p90_ms", "p99_ms"))),
        ("text query padded 77 p50/p90/p99 (ms)", lambda x: "/".join(f"{x['text_padded77'][k]:.1f}" for k in ("p50_ms", "p90_ms", "p99_ms"))),
        ("CPU busy by other processes (cores)", lambda x: f"{x['other_processes_cores']:.2f}"),
        ("CPU used by this benchmark (cores)", lambda x: f"{x['own_cpu_cores']:.2f}"),
        ("CPU stolen by the hypervisor (cores)", lambda x: f"{x['steal_cores']:.2f}"),
        ("section wall time (s)", lambda x: f"{x['wall_s']:.1f}"),
    ]
    w0 = max(len(k) for k, _ in rows) + 2
    cw = [max(len(c), max(len(f(x)) for _, f in rows)) + 2 for c, x in zip(cols, th)]
    out.append("  " + "metric".ljust(w0) + "".join(c.rjust(w) for c, w in zip(cols, cw)))
    for k, f in rows:
        out.append("  " + k.ljust(w0) + "".join(f(x).rjust(w) for x, w in zip(th, cw)))
    out.append(f"  wall time {r['wall_s']:.1f} s")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch CLIP CPU baseline benchmark")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="Hugging Face CLIP model directory (config.json, model.safetensors)")
    src.add_argument("--random-vit-b32", action="store_true",
                     help="random full-size weights from --config, written to a temp safetensors file")
    ap.add_argument("--config", default=DEFAULT_CONFIG, help="config.json for --random-vit-b32")
    ap.add_argument("--keep-random", metavar="DIR", help="write the random model here and keep it")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", nargs="+", default=["1", "2"], help='e.g. "1 2" or 1,2')
    ap.add_argument("--thread-mode", choices=THREAD_MODES, default="blas",
                    help="how N threads are applied to OpenMP/OpenBLAS (see README)")
    ap.add_argument("--load-repeats", type=int, default=3, help="time the model load this many times")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--warmup", type=int, default=1, help="warm-up image batches")
    ap.add_argument("--image-batches", type=int, default=6, help="timed image batches (>= 5)")
    ap.add_argument("--image-latency-iters", type=int, default=10)
    ap.add_argument("--text-iters", type=int, default=60, help="timed text queries (>= 50)")
    ap.add_argument("--text-warmup", type=int, default=5)
    ap.add_argument("--query", default=DEFAULT_QUERY, help="text query (ids taken from --expected)")
    ap.add_argument("--expected", default=DEFAULT_EXPECTED)
    ap.add_argument("--wait-idle", type=float, default=0, metavar="S",
                    help="before each thread count, wait up to S s for the other processes to go quiet")
    ap.add_argument("--json", action="store_true", help="print one JSON object on stdout (table to stderr)")
    a = ap.parse_args(argv)
    threads = [int(t) for s in a.threads for t in s.replace(",", " ").split()]

    t_start = time.perf_counter()
    env = env_info()  # before set_threads: the defaults a plain `import torch` gets
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    tmp = None
    if a.random_vit_b32:
        model_dir = a.keep_random or tempfile.mkdtemp(prefix="clip-random-vitb32-")
        tmp = None if a.keep_random else model_dir
        preproc = os.path.join(os.path.dirname(a.config), "preprocessor_config.json")
        make_random_model_dir(model_dir, a.config, preproc, a.seed)
        name = "random ViT-B/32 (" + os.path.basename(os.path.dirname(os.path.abspath(a.config))) + "/config.json)"
    else:
        model_dir = a.model
        name = os.path.abspath(model_dir)
    try:
        set_threads(max(threads), a.thread_mode)
        load_wait = wait_idle(a.wait_idle) if a.wait_idle > 0 else None
        file_mb = os.path.getsize(os.path.join(model_dir, "model.safetensors")) / 1e6
        load_times = []
        for _ in range(max(1, a.load_repeats)):
            model = None  # free the previous copy first
            t0 = time.perf_counter()
            model = torch_clip.CLIP.from_pretrained(model_dir)
            load_times.append(time.perf_counter() - t0)
        load_s = load_times[0]
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    ids = query_ids(a.query, a.expected)
    pids, pmask = torch_clip.pad_ids(ids)
    jpeg = make_jpeg()
    px1 = torch.from_numpy(decode_preprocess(jpeg, model.preprocessor))
    img_f, txt_f = flops(model, len(ids))
    _, txt_fp = flops(model, 77)

    results = [bench_threads(model, n, a, jpeg, px1, ids, pids, pmask, img_f) for n in threads]
    rep = {
        "model": {"name": name, "dir": None if tmp else os.path.abspath(model_dir), "file_mb": file_mb,
                  "params": model.n_params,
                  "image_gflop": img_f / 1e9, "text_gflop_unpadded": txt_f / 1e9, "text_gflop_padded": txt_fp / 1e9,
                  "vision": {k: model.vcfg.get(k) for k in ("hidden_size", "num_hidden_layers", "num_attention_heads",
                                                        "intermediate_size", "patch_size", "hidden_act")},
                  "text": {k: model.tcfg.get(k) for k in ("hidden_size", "num_hidden_layers", "num_attention_heads",
                                                      "intermediate_size", "vocab_size", "hidden_act")}},
        "thread_mode": a.thread_mode, "load_s": load_s, "load_s_all": load_times, "load_wait_idle": load_wait,
        "batch": a.batch, "query": a.query, "query_ids": ids,
        "jpeg_bytes": len(jpeg), "env": env,
        "loadavg_before": load_before, "loadavg_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "results": results,
    }
    rep["wall_s"] = time.perf_counter() - t_start
    table = fmt_table(rep)
    if a.json:
        print(table, file=sys.stderr)
        print(json.dumps(rep))
    else:
        print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
