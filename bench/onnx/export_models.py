#!/usr/bin/env python3
"""Exports the models of glassbox's ONNX benchmark, with PyTorch's answers.

    /usr/bin/python3 bench/onnx/export_models.py DIR

writes into DIR (generated, never committed):

  NAME.onnx         torch.onnx.export, opset 13, batch axis "batch"
  NAME.pt           the weights (state dict), for the peers to load
  NAME.x.bin        a fixed input batch (4 examples), float32 little-endian
                    (token ids as float32, which is how glassbox feeds them)
  NAME.y.bin        PyTorch's outputs on it [4, classes]
  NAME.grad.bin     d output[k, label] / d input[k] by torch.autograd for
                    every example k (label: example 0's top class)
  NAME.ig.bin       integrated gradients of output[k, label] at input[k]
                    from a zero baseline: 50-point Gauss-Legendre, the
                    default of glassbox's explain.IntegratedGradients
  NAME.grad64.bin,  the same two computed in float64 (the model and input
  NAME.ig64.bin     cast to double): the exact answer that float32 results,
                    PyTorch's and glassbox's, are both compared with.
                    Input gradients of ReLU networks at float32 are noisy:
                    a unit whose input rounds to the other side of zero
                    flips its mask, and PyTorch's own float32 gradient
                    differs from its float64 one by about 1% of the
                    largest value on these models; which units flip
                    differs from one float32 implementation and one
                    example to the next, so every example is compared
  manifest.json     shapes, labels, versions and what each file holds

for NAME in resnet18, mobilenet_v2, gru (token ids -> logits; no
gradients: ids are not differentiable) and gru_emb (the same GRU
classifier after its embedding; its input is the embedding of gru's
input, and it carries the text model's gradients and attributions).
Weights are random from torch.manual_seed(0) (see models.py).
"""
import copy
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402

IG_STEPS = 50
EXAMPLES = 4


def gauss_legendre(n):
    """Nodes and weights of the n-point Gauss-Legendre rule on [0, 1]."""
    z, w = np.polynomial.legendre.leggauss(n)
    return (1 + z) / 2, w / 2


def input_grad(model, x, label):
    x = x.clone().requires_grad_(True)
    model(x)[:, label].sum().backward()
    return x.grad


def integrated_gradients(model, x, label, steps=IG_STEPS):
    """IG of model output label at x (one example, batch axis 1) from a
    zero baseline, all path points in one batch; returns the attributions
    and f(x) - f(0)."""
    alphas, weights = gauss_legendre(steps)
    base = torch.zeros_like(x)
    path = base + torch.tensor(alphas, dtype=x.dtype).view(-1, *[1] * (x.dim() - 1)) * (x - base)
    g = input_grad(model, path, label).double()
    avg = (torch.tensor(weights).view(-1, *[1] * (x.dim() - 1)) * g).sum(0, keepdim=True)
    attr = ((x - base).double() * avg).float()
    with torch.no_grad():
        delta = (model(x)[0, label] - model(base)[0, label]).item()
    return attr, delta


def save(path, t):
    np.ascontiguousarray(t.detach().numpy(), dtype="<f4").tofile(path)


def ops(path):
    try:
        import onnx
    except ImportError:
        return None
    counts = {}
    for n in onnx.load(path).graph.node:
        counts[n.op_type] = counts.get(n.op_type, 0) + 1
    return counts


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_models.py DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    models.set_threads(max(1, os.cpu_count() or 1))
    manifest = {"torch": torch.__version__, "opset": 13, "ig_steps": IG_STEPS,
                "ig_method": "gausslegendre", "examples": EXAMPLES, "models": {}}
    try:
        import torchvision
        manifest["torchvision"] = torchvision.__version__
    except ImportError:
        pass
    clf = None
    for name in models.NAMES:
        spec = models.SPECS[name]
        if name == "gru_emb":
            m = models.GRUBody(clf).eval()  # shares the classifier's weights
            x = clf.emb(models.example_input("gru", EXAMPLES, seed=2)).detach()
        else:
            m = models.calibrate(models.build(name))
            torch.save(m.state_dict(), os.path.join(out, name + ".pt"))
            x = models.example_input(name, EXAMPLES, seed=2)
            if name == "gru":
                clf = m
        path = os.path.join(out, name + ".onnx")
        torch.onnx.export(m, x[:1], path, opset_version=13, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, do_constant_folding=True)
        with torch.no_grad():
            y = m(x)
        label = int(y[0].argmax())
        entry = {"onnx": name + ".onnx", "shape": list(spec["shape"]), "dtype": spec["dtype"],
                 "classes": int(y.shape[1]), "label": label, "ops": ops(path),
                 "x": name + ".x.bin", "y": name + ".y.bin"}
        save(os.path.join(out, entry["x"]), x.float())
        save(os.path.join(out, entry["y"]), y)
        if spec["dtype"] == "float32":
            m64 = copy.deepcopy(m).double()
            grads, attrs, grads64, attrs64 = [], [], [], []
            for k in range(EXAMPLES):
                xk = x[k:k + 1]
                grads.append(input_grad(m, xk, label))
                attr, d = integrated_gradients(m, xk, label)
                attrs.append(attr)
                if k == 0:
                    delta = d
                grads64.append(input_grad(m64, xk.double(), label))
                attrs64.append(integrated_gradients(m64, xk.double(), label)[0])
            del m64
            entry.update(grad=name + ".grad.bin", ig=name + ".ig.bin", ig_sum=float(attrs[0].double().sum()), ig_delta=delta,
                         grad64=name + ".grad64.bin", ig64=name + ".ig64.bin", grad_examples=EXAMPLES)
            save(os.path.join(out, entry["grad"]), torch.cat(grads))
            save(os.path.join(out, entry["ig"]), torch.cat(attrs))
            save(os.path.join(out, entry["grad64"]), torch.cat(grads64))
            save(os.path.join(out, entry["ig64"]), torch.cat(attrs64))
        manifest["models"][name] = entry
        print(f"{name}: {path}, input {list(x.shape[1:])} {spec['dtype']}, {entry['classes']} outputs, "
              f"label {label}, ops {entry['ops']}", file=sys.stderr)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
