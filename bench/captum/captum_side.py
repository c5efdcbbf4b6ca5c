#!/usr/bin/env python3
"""Captum side of glassbox's Captum comparison.

    /usr/bin/python3 bench/captum/captum_side.py DIR

DIR is where `go run ./bench/captum -dir DIR` left the trained models
(.gbx), the inputs, glassbox's attributions and manifest.json. This script
rebuilds each model in PyTorch from the .gbx file (a safetensors file whose
metadata holds the architecture and the preprocessing), checks that it
predicts what glassbox predicted, runs the Captum class of each row of the
manifest with the same settings on the same inputs and labels, and prints
a Markdown table: Spearman rank correlation of the attributions (per
input; min and mean), median time per explanation on each side and their
ratio. For stochastic methods it also gives Captum's own seed-to-seed rank
correlation: agreement within sampling noise means glassbox-vs-Captum is
about as high.

Environment: REPS (timed repetitions, default 5), SEEDS (Captum seeds the
stochastic rows are compared over, default 2), METHODS (a comma-separated
list of the methods to run), REFEREES=0 (leave out the explicit DeepLIFT
and exact Shapley lines).

Captum is vendored under bench/onnx/third_party/captum (see its README);
Debian's python3-torch, python3-numpy, python3-tqdm and python3-sklearn
(Kernel SHAP's linear regression) run it.
"""
import collections
import json
import os
import statistics
import struct
import sys
import time
import types

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
_root = os.path.join(HERE, "..", "onnx", "third_party", "captum", "captum")
for _name, _path in [("captum", _root), ("captum.attr", os.path.join(_root, "attr"))]:
    if _name not in sys.modules:
        _m = types.ModuleType(_name)
        _m.__path__ = [_path]
        sys.modules[_name] = _m


def captum_class(name):
    """Imports the Captum class called name from its module."""
    where = {
        "Saliency": "saliency", "IntegratedGradients": "integrated_gradients", "NoiseTunnel": "noise_tunnel",
        "LayerGradCam": "layer.grad_cam", "Occlusion": "occlusion", "KernelShap": "kernel_shap",
        "LayerIntegratedGradients": "layer.layer_integrated_gradients", "LayerConductance": "layer.layer_conductance",
        "NeuronIntegratedGradients": "neuron.neuron_integrated_gradients", "NeuronConductance": "neuron.neuron_conductance",
        "InputXGradient": "input_x_gradient", "GuidedBackprop": "guided_backprop_deconvnet",
        "Deconvolution": "guided_backprop_deconvnet", "GuidedGradCam": "guided_grad_cam", "DeepLift": "deep_lift",
        "DeepLiftShap": "deep_lift", "GradientShap": "gradient_shap", "LRP": "lrp", "FeatureAblation": "feature_ablation",
        "FeaturePermutation": "feature_permutation", "ShapleyValueSampling": "shapley_value",
    }[name]
    mod = __import__("captum.attr._core." + where, fromlist=[name])
    return getattr(mod, name)


def read_gbx(path):
    """Returns the tensors and metadata of a .gbx (safetensors) file."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__")
    body = raw[8 + n:]
    tensors = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", t
        lo, hi = t["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(body[lo:hi], "<f4").reshape(t["shape"]).copy())
    return tensors, json.loads(meta["glassbox.architecture"]), json.loads(meta["glassbox.meta"])


class Standardize(nn.Module):
    """(x − mean) / std per feature or per channel, as glassbox's ToModel."""

    def __init__(self, mean, std, shape):
        super().__init__()
        view = (1, -1) if len(shape) == 1 else (1, -1, 1, 1)
        self.register_buffer("mean", torch.tensor(mean).view(*view))
        self.register_buffer("std", torch.tensor(std).view(*view))

    def forward(self, x):
        return (x - self.mean) / self.std


def build(path):
    """Rebuilds a glassbox Sequential in PyTorch, layer names kept."""
    w, arch, meta = read_gbx(path)
    assert arch["type"] == "sequential", arch["type"]
    layers = collections.OrderedDict()
    shape = meta["input_shape"]
    if meta.get("mean"):
        layers["prep"] = Standardize(meta["mean"], meta["std"], shape)
    if meta.get("pixel_mean"):
        layers["prep"] = Standardize(meta["pixel_mean"], meta["pixel_std"], shape)
    for c in arch["children"]:
        t, name, a = c["type"], c["name"], c.get("args", {})
        if t == "linear":
            m = nn.Linear(a["in"], a["out"], bias=a.get("bias", True))
            m.weight.data = w[name + "/weight"].t().contiguous()
            if a.get("bias", True):
                m.bias.data = w[name + "/bias"]
        elif t == "conv2d":
            m = nn.Conv2d(a["in"], a["out"], (a["kh"], a["kw"]), stride=(a["stride_h"], a["stride_w"]),
                          padding=(a["pad_h"], a["pad_w"]), groups=a.get("groups", 1), bias=a.get("bias", True))
            m.weight.data = w[name + "/weight"]
            if a.get("bias", True):
                m.bias.data = w[name + "/bias"]
        elif t == "relu":
            m = nn.ReLU()
        elif t == "tanh":
            m = nn.Tanh()
        elif t == "sigmoid":
            m = nn.Sigmoid()
        elif t == "flatten":
            m = nn.Flatten()
        elif t == "maxpool2d":
            m = nn.MaxPool2d((a["kh"], a["kw"]), stride=(a["stride_h"], a["stride_w"]), padding=(a["pad_h"], a["pad_w"]))
        elif t == "avgpool2d":
            m = nn.AvgPool2d((a["kh"], a["kw"]), stride=(a["stride_h"], a["stride_w"]), padding=(a["pad_h"], a["pad_w"]))
        else:
            raise SystemExit(f"{path}: layer type {t} is not rebuilt here")
        layers[name] = m
    model = nn.Sequential(layers).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def ranks(v):
    """Ranks with ties averaged (for Spearman's ρ)."""
    order = np.argsort(v, kind="mergesort")
    r = np.empty(len(v))
    sv = v[order]
    i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and sv[j + 1] == sv[i]:
            j += 1
        r[order[i:j + 1]] = (i + j) / 2
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = ranks(np.asarray(a, np.float64)), ranks(np.asarray(b, np.float64))
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def references(rec, folder, seed):
    """The references of glassbox's background methods: the training rows
    it draws (written by the Go side) for a table; for an image, as
    glassbox makes them, the black image and then uniform-noise images."""
    shape = rec["shape"]
    if rec.get("references"):
        r = np.fromfile(os.path.join(folder, rec["references"]), "<f4").reshape(-1, *shape)
        return torch.from_numpy(r.copy())
    g = torch.Generator().manual_seed(seed)
    r = torch.rand(50, *shape, generator=g)
    r[0] = 0
    return r


def explicit_lrp(model, x, label, eps=1e-6):
    """LRP in float64, layer by layer from the rules' definitions (as
    bench/rules/peers.py): glassbox's default composite — ε for dense
    layers, z⁺ for convolutions — ReLU passing relevance on, max pooling
    giving each window's relevance to its maximum. Relevance is of the
    network's own input (after the preprocessing), as glassbox's."""
    import torch.nn.functional as F
    layers = [m for n, m in model.named_children() if n != "prep"]
    h = x.double()
    if hasattr(model, "prep"):
        h = model.prep(x).double()
    acts = []
    for m in layers:
        acts.append(h)
        if isinstance(m, nn.Linear):
            h = F.linear(h, m.weight.double(), m.bias.double())
        elif isinstance(m, nn.Conv2d):
            h = F.conv2d(h, m.weight.double(), m.bias.double(), m.stride, m.padding)
        else:
            h = m(h)
    R = torch.zeros_like(h)
    R[0, label] = h[0, label]

    def stab(z):
        return z + eps * torch.where(z >= 0, 1.0, -1.0).double()

    for m, a in zip(reversed(layers), reversed(acts)):
        a = a.detach().requires_grad_()
        if isinstance(m, nn.Linear):
            z = F.linear(a, m.weight.double(), m.bias.double())
        elif isinstance(m, nn.Conv2d):
            z = F.conv2d(a, m.weight.double().clamp(min=0), None, m.stride, m.padding)
        elif isinstance(m, nn.MaxPool2d):
            out, idx = F.max_pool2d(a, m.kernel_size, m.stride, m.padding, return_indices=True)
            R = F.max_unpool2d(R.reshape(out.shape), idx, m.kernel_size, m.stride, m.padding, output_size=a.shape[2:])
            continue
        elif isinstance(m, nn.Flatten):
            R = R.reshape(a.shape)
            continue
        elif isinstance(m, nn.ReLU):
            continue
        else:
            raise ValueError(f"explicit LRP: no rule for {type(m).__name__}")
        (z * (R / stab(z)).detach()).sum().backward()
        R = (a * a.grad).detach()
    return R.float()


def explicit_deeplift(model, x, base, label, eps=1e-10):
    """DeepLIFT's Rescale rule in float64, multipliers handed back layer by
    layer (affine layers by their transpose, ReLU by Δy/Δx, max pooling by
    the rule glassbox and Captum state: each window's Δy split as
    (m − y_ref) at the input's maximum and (y − m) at the reference's,
    m = max(y, y_ref), divided by each position's Δx). A referee where
    Captum's hooks through max pooling are in doubt."""
    import copy
    import torch.nn.functional as F
    layers = list(copy.deepcopy(model).double().children())
    a, r = x.double(), base.double()
    ins = []
    for m in layers:
        ins.append((a, r))
        a, r = m(a), m(r)
    G = torch.zeros_like(a)
    G[0, label] = 1
    for m, (a, r) in zip(reversed(layers), reversed(ins)):
        d = a - r
        if isinstance(m, nn.ReLU):
            G = G * torch.where(d.abs() > eps, (F.relu(a) - F.relu(r)) / torch.where(d.abs() > eps, d, 1.0), (a > 0).double())
        elif isinstance(m, nn.MaxPool2d):
            ya, ia = F.max_pool2d(a, m.kernel_size, m.stride, m.padding, return_indices=True)
            yr, ir = F.max_pool2d(r, m.kernel_size, m.stride, m.padding, return_indices=True)
            top = torch.max(ya, yr)
            un = lambda v, i: F.max_unpool2d(v, i, m.kernel_size, m.stride, m.padding, output_size=a.shape[2:])
            c = un(G * (top - yr), ia) + un(G * (ya - top), ir)
            G = torch.where(d.abs() > eps, c / torch.where(d.abs() > eps, d, 1.0), un(G, ia))
        else:  # affine: Linear, Conv2d, Flatten, the preprocessing
            a = a.detach().requires_grad_()
            (m(a) * G).sum().backward()
            G = a.grad
    return ((x.double() - base.double()) * G).float()


def exact_shapley(f, x, label, refs):
    """The exact Shapley values of the columns of x for f's output label,
    the value of a coalition S being the mean over the reference rows of
    f(x on S, the row elsewhere): what glassbox's Shapley sampling (and
    Captum's, given the same rows) estimates. 2^d coalitions: tables only."""
    import math
    d = x.shape[1]
    masks = torch.tensor([[(s >> j) & 1 for j in range(d)] for s in range(1 << d)], dtype=torch.float32)
    v = torch.empty(1 << d, dtype=torch.float64)
    with torch.no_grad():
        for lo in range(0, 1 << d, 256):
            m = masks[lo:lo + 256, None, :]
            rows = m * x[0] + (1 - m) * refs[None]
            v[lo:lo + 256] = f(rows.reshape(-1, d))[:, label].double().reshape(len(m), -1).mean(1)
    size = masks.sum(1).long()
    w = torch.tensor([math.factorial(k) * math.factorial(d - k - 1) / math.factorial(d) for k in range(d)], dtype=torch.float64)
    phi = torch.zeros(d, dtype=torch.float64)
    for j in range(d):
        without = (masks[:, j] == 0).nonzero().squeeze(1)
        phi[j] = (w[size[without]] * (v[without + (1 << j)] - v[without])).sum()
    return phi[None].float()


def captum_attr(run, model, probs, x, label, base, unit, layer_name, seed, refs, segments=None):
    """Runs the Captum counterpart of one glassbox run on one input."""
    args = dict(run.get("args") or {})
    if args.get("feature_mask") == "segments":
        args["feature_mask"] = segments
    f = probs if run["output"] == "probs" else model
    layer = getattr(model, layer_name) if run.get("layer") else None
    cls = run["captum"]
    for k, v in list(args.items()):
        if v == "baseline":
            args[k] = base
        if v == "references":
            args[k] = refs
        if k == "sliding_window_shapes" or k == "strides":
            args[k] = tuple(v)
    if cls == "NoiseTunnel(Saliency)":
        args["stdevs"] = float(0.15 * (x.max() - x.min()))
        torch.manual_seed(seed)
        np.random.seed(seed)
        return captum_class("NoiseTunnel")(captum_class("Saliency")(f)).attribute(x, target=label, **args)
    if cls == "explicit DeepLIFT (float64)":
        return explicit_deeplift(model, x, base, label)
    if cls == "exact Shapley values":
        return exact_shapley(f, x, label, refs)
    if cls == "LRP":
        return explicit_lrp(model, x, label)
    if cls.endswith("×references"):
        # glassbox's mean over reference rows: the Captum class with each
        # row as one example's baseline, averaged over the batch.
        torch.manual_seed(seed)
        np.random.seed(seed)
        c = captum_class(cls.removesuffix("×references"))
        xs = x.expand(len(refs), *x.shape[1:]).contiguous()
        if "n_samples" in args:
            args["perturbations_per_eval"] = 1
        return c(f).attribute(xs, target=label, **args).mean(0, keepdim=True)
    c = captum_class(cls)
    if cls.startswith("Neuron"):
        shape = tuple(getattr_shape(model, layer_name, x))
        sel = tuple(int(i) for i in np.unravel_index(unit, shape))
        kw = dict(neuron_selector=sel, **args)
        if cls == "NeuronConductance":
            kw["target"] = label
        return c(f, layer).attribute(x, **kw)
    torch.manual_seed(seed)
    np.random.seed(seed)  # GradientShap draws its baselines with numpy
    if layer is not None:
        return c(f, layer).attribute(x, target=label, **args)
    return c(f).attribute(x, target=label, **args)


_shapes = {}


def getattr_shape(model, name, x):
    """The shape of one example's activations at layer name."""
    if name not in _shapes:
        out = {}
        h = getattr(model, name).register_forward_hook(lambda m, i, o: out.setdefault("v", o))
        model(x)
        h.remove()
        _shapes[name] = out["v"].shape[1:]
    return _shapes[name]


def post(run, a, shape):
    """Captum's result in the layout glassbox's attribution file has."""
    if run.get("post") == "gradcam":
        from captum.attr._utils.attribution import LayerAttribution
        a = LayerAttribution.interpolate(a.detach(), tuple(shape[1:]), interpolate_mode="bilinear")
    a = a.detach().numpy()[0]
    if run.get("post") == "abs":
        a = np.abs(a)
    if len(shape) == 3 and not run.get("layer") or (run.get("neuron") and len(shape) == 3) or run.get("post") == "gradcam":
        a = a.sum(axis=0)  # channels summed: glassbox's per-pixel map
    return a.reshape(-1)


def paired(folder, n):
    """The table of paired.sh's n passes: per row the median times and the
    median of the passes' ratios; ρ from the last pass (the attributions
    are the same each pass: same seeds)."""
    passes = []
    for k in range(1, n + 1):
        with open(os.path.join(folder, f"results-{k}.json")) as f:
            passes.append(json.load(f))
    with open(os.path.join(folder, "manifest.json")) as f:
        man = json.load(f)
    print(f"CPU {man['cpu']}, kernel {man.get('kernel', '')}, torch {torch.__version__}, "
          f"{man['threads']} thread each side, {n} paired passes")
    rows = []
    for i, r in enumerate(passes[-1]):
        if "skip" not in r:
            same = [p[i] for p in passes]
            r = dict(r, glassbox_s=statistics.median(p["glassbox_s"] for p in same),
                     captum_s=statistics.median(p["captum_s"] for p in same),
                     speedup=statistics.median(p["speedup"] for p in same))
        rows.append(r)
    table(rows)


def main():
    if sys.argv[1] == "--paired":
        paired(sys.argv[2], int(sys.argv[3]))
        return
    folder = sys.argv[1]
    with open(os.path.join(folder, "manifest.json")) as f:
        man = json.load(f)
    torch.set_num_threads(man["threads"])
    reps = int(os.environ.get("REPS", "5"))
    models = {}
    for name, rec in man["models"].items():
        m = build(os.path.join(folder, rec["file"]))
        probs = nn.Sequential(m, nn.Softmax(dim=1)).eval()
        x = np.fromfile(os.path.join(folder, rec["inputs"]), "<f4").reshape(rec["n"], *rec["shape"])
        x = torch.from_numpy(x.copy())
        pred = m(x).argmax(1).tolist()
        if pred != rec["labels"]:
            raise SystemExit(f"{name}: the rebuilt model predicts {pred}, glassbox {rec['labels']}")
        base = torch.tensor(rec["baseline"], dtype=torch.float32).view(1, *rec["shape"])
        models[name] = (m, probs, x, base, rec)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "captum": "0.8.0 (vendored)",
                      "glassbox_threads": man["threads"], "cpu": man["cpu"], "kernel": man.get("kernel", "")}))
    rows = []
    only = os.environ.get("METHODS", "")
    for run in man["runs"]:
        if only and run["name"] not in only.split(","):
            continue
        if run.get("skip"):
            rows.append({"method": run["name"], "model": run["model"], "captum": run["captum"], "skip": run["skip"]})
            continue
        try:
            row = compare(run, models[run["model"]], folder, reps)
        except Exception as e:  # a missing peer dependency, say: one row says so
            row = {"method": run["name"], "model": run["model"], "captum": run["captum"], "skip": f"Captum failed: {e}"}
        rows.append(row)
        print(json.dumps(row), flush=True)
        referee = None if os.environ.get("REFEREES") == "0" else {"DeepLift": "explicit DeepLIFT (float64)", "ShapleyValueSampling×references": "exact Shapley values"}.get(run["captum"])
        if referee and "skip" not in row:
            row = compare(dict(run, captum=referee, stochastic=False), models[run["model"]], folder, reps, peer=run)
            rows.append(row)
            print(json.dumps(row), flush=True)
    with open(os.path.join(folder, "results.json"), "w") as f:
        json.dump(rows, f, indent=1)
    table(rows)


def compare(run, model, folder, reps, peer=None):
    """Runs Captum for one manifest row on every input and compares. With
    peer (the Captum row a referee row checks), the row also gives Captum's
    rank correlation with the referee."""
    m, probs, x, base, rec = model
    layer = run.get("layer") or ""
    seeds = max(2, int(os.environ.get("SEEDS", "2")))
    rhos, noise, times = [], [], []
    for i, label in enumerate(rec["labels"]):
        xi = x[i:i + 1]
        unit = run["units"][i] if run.get("units") else None
        g = np.fromfile(os.path.join(folder, run["files"][i]), "<f4")
        refs = references(rec, folder, 1)
        seg = None
        if run.get("segments"):
            seg = np.fromfile(os.path.join(folder, run["segments"][i]), "<f4").astype(np.int64)
            seg = torch.from_numpy(seg).view(1, 1, *rec["shape"][1:]).expand(1, *rec["shape"])
        t0 = time.perf_counter()
        a = post(run, captum_attr(run, m, probs, xi, label, base, unit, layer, 1, refs, seg), rec["shape"])
        if run["captum"].startswith("exact"):  # a referee: timed once
            times.append(time.perf_counter() - t0)
        if a.shape != g.shape:
            raise ValueError(f"{run['name']} on {run['model']}: Captum gives {a.shape} values, glassbox {g.shape}")
        if run.get("stochastic"):
            # glassbox against Captum with seeds 1..SEEDS, and Captum
            # against itself over every pair of those seeds.
            runs = [a] + [post(run, captum_attr(run, m, probs, xi, label, base, unit, layer, s, references(rec, folder, s), seg),
                               rec["shape"]) for s in range(2, seeds + 1)]
            rhos.append(statistics.mean(spearman(r, g) for r in runs))
            noise.append(statistics.mean(spearman(r1, r2) for j, r1 in enumerate(runs) for r2 in runs[j + 1:]))
        else:
            rhos.append(spearman(a, g))
        if peer is not None:
            a2 = post(peer, captum_attr(peer, m, probs, xi, label, base, unit, layer, 1, refs, seg), rec["shape"])
            noise.append(spearman(a, a2))
        for _ in range(0 if run["captum"].startswith("exact") else reps):
            t0 = time.perf_counter()
            captum_attr(run, m, probs, xi, label, base, unit, layer, 1, refs, seg)
            times.append(time.perf_counter() - t0)
    t = statistics.median(times)
    row = {"method": run["name"], "model": run["model"], "captum": run["captum"], "layer": layer,
           "rho_min": min(rhos), "rho_mean": statistics.mean(rhos), "captum_s": t,
           "glassbox_s": run["method_seconds"], "glassbox_run_s": run["run_seconds"],
           "speedup": t / run["method_seconds"]}
    if noise and peer is not None:
        row["captum_vs_referee_rho_mean"] = statistics.mean(noise)
    elif noise:
        row["captum_seed_rho_mean"] = statistics.mean(noise)
    return row


def table(rows):
    """Prints the comparison as a Markdown table."""
    print()
    print("| method | model | Captum class | layer | ρ min | ρ mean | Captum seed-to-seed ρ | glassbox ms | Captum ms | Captum/glassbox |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if "skip" in r:
            print(f"| {r['method']} | {r['model']} | {r['captum']} | | | | | | | {r['skip']} |")
            continue
        seed = f"{r['captum_seed_rho_mean']:.3f}" if "captum_seed_rho_mean" in r else ""
        if "captum_vs_referee_rho_mean" in r:
            seed = f"Captum vs this: {r['captum_vs_referee_rho_mean']:.4f}"
        print(f"| {r['method']} | {r['model']} | {r['captum']} | {r['layer']} | {r['rho_min']:.4f} | {r['rho_mean']:.4f} | {seed} | "
              f"{1e3 * r['glassbox_s']:.2f} | {1e3 * r['captum_s']:.2f} | {r['speedup']:.1f}× |")


if __name__ == "__main__":
    main()
