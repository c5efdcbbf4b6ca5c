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


def captum_attr(run, model, probs, x, label, base, unit, layer_name, seed):
    """Runs the Captum counterpart of one glassbox run on one input."""
    args = dict(run.get("args") or {})
    f = probs if run["output"] == "probs" else model
    layer = getattr(model, layer_name) if run.get("layer") else None
    cls = run["captum"]
    for k, v in list(args.items()):
        if v == "baseline":
            args[k] = base
        if k == "sliding_window_shapes" or k == "strides":
            args[k] = tuple(v)
    if cls == "NoiseTunnel(Saliency)":
        args["stdevs"] = float(0.15 * (x.max() - x.min()))
        torch.manual_seed(seed)
        return captum_class("NoiseTunnel")(captum_class("Saliency")(f)).attribute(x, target=label, **args)
    c = captum_class(cls)
    if cls.startswith("Neuron"):
        shape = tuple(getattr_shape(model, layer_name, x))
        sel = tuple(int(i) for i in np.unravel_index(unit, shape))
        kw = dict(neuron_selector=sel, **args)
        if cls == "NeuronConductance":
            kw["target"] = label
        return c(f, layer).attribute(x, **kw)
    torch.manual_seed(seed)
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


def main():
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
                      "glassbox_threads": man["threads"], "cpu": man["cpu"]}))
    rows = []
    for run in man["runs"]:
        if run.get("skip"):
            rows.append({"method": run["name"], "model": run["model"], "captum": run["captum"], "skip": run["skip"]})
            continue
        try:
            row = compare(run, models[run["model"]], folder, reps)
        except Exception as e:  # a missing peer dependency, say: one row says so
            row = {"method": run["name"], "model": run["model"], "captum": run["captum"], "skip": f"Captum failed: {e}"}
        rows.append(row)
        print(json.dumps(row), flush=True)
    with open(os.path.join(folder, "results.json"), "w") as f:
        json.dump(rows, f, indent=1)
    table(rows)


def compare(run, model, folder, reps):
    """Runs Captum for one manifest row on every input and compares."""
    m, probs, x, base, rec = model
    layer = run.get("layer") or ""
    rhos, noise, times = [], [], []
    for i, label in enumerate(rec["labels"]):
        xi = x[i:i + 1]
        unit = run["units"][i] if run.get("units") else None
        g = np.fromfile(os.path.join(folder, run["files"][i]), "<f4")
        a = post(run, captum_attr(run, m, probs, xi, label, base, unit, layer, 1), rec["shape"])
        if a.shape != g.shape:
            raise ValueError(f"{run['name']} on {run['model']}: Captum gives {a.shape} values, glassbox {g.shape}")
        rhos.append(spearman(a, g))
        if run.get("stochastic"):
            a2 = post(run, captum_attr(run, m, probs, xi, label, base, unit, layer, 2), rec["shape"])
            noise.append(spearman(a, a2))
        for _ in range(reps):
            t0 = time.perf_counter()
            captum_attr(run, m, probs, xi, label, base, unit, layer, 1)
            times.append(time.perf_counter() - t0)
    t = statistics.median(times)
    row = {"method": run["name"], "model": run["model"], "captum": run["captum"], "layer": layer,
           "rho_min": min(rhos), "rho_mean": statistics.mean(rhos), "captum_s": t,
           "glassbox_s": run["method_seconds"], "glassbox_run_s": run["run_seconds"],
           "speedup": t / run["method_seconds"]}
    if noise:
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
        print(f"| {r['method']} | {r['model']} | {r['captum']} | {r['layer']} | {r['rho_min']:.4f} | {r['rho_mean']:.4f} | {seed} | "
              f"{1e3 * r['glassbox_s']:.2f} | {1e3 * r['captum_s']:.2f} | {r['speedup']:.1f}× |")


if __name__ == "__main__":
    main()
