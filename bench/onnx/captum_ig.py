#!/usr/bin/env python3
"""Captum side of glassbox's ONNX benchmark: integrated gradients.

    /usr/bin/python3 bench/onnx/captum_ig.py DIR THREADS MODELS REPS MIN_TIME

For each model (resnet18, mobilenet_v2, gru_emb: float inputs) it loads the
weights and the fixed input from DIR (export_models.py), and times Captum's
IntegratedGradients.attribute on the first example for the reference
label: 50 Gauss-Legendre steps (Captum's default, and glassbox's), a zero
baseline, all steps in one batch (internal_batch_size None; glassbox's
default batch holds all 52 points), with return_convergence_delta=True,
which like glassbox's Completeness also evaluates f(x) and f(baseline).
It also reports how far Captum's attributions are from export_models.py's
reference (max |diff| / max |reference|), so the peer is seen to compute
the same thing. Prints one JSON object per model.

Captum is vendored under third_party/captum (only IntegratedGradients and
what it imports); see its README.
"""
import json
import os
import statistics
import sys
import time
import types

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import models  # noqa: E402

# captum/__init__.py and captum/attr/__init__.py import the whole library,
# which is not vendored: register the two packages bare over the vendored
# folders so that only IntegratedGradients' own imports run.
_root = os.path.join(HERE, "third_party", "captum", "captum")
for _name, _path in [("captum", _root), ("captum.attr", os.path.join(_root, "attr"))]:
    if _name not in sys.modules:
        _m = types.ModuleType(_name)
        _m.__path__ = [_path]
        sys.modules[_name] = _m
from captum.attr._core.integrated_gradients import IntegratedGradients  # noqa: E402


def main():
    folder, threads, names = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
    reps, min_time = int(sys.argv[4]), float(sys.argv[5])
    models.set_threads(threads)
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    steps, method = manifest["ig_steps"], manifest["ig_method"]
    print(json.dumps({"info": {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": models.blas_library(), "captum": "0.8.0 (vendored)",
                               "n_steps": steps, "method": method}}), flush=True)
    for name in names:
        e = manifest["models"][name]
        m = models.load(name, folder)
        x = torch.from_numpy(np.fromfile(os.path.join(folder, e["x"]), "<f4").reshape(-1, *e["shape"])[:1].copy())
        ref = np.fromfile(os.path.join(folder, e["ig"]), "<f4")[:x.numel()]  # example 0's
        ig = IntegratedGradients(m)

        def run():
            return ig.attribute(x, target=e["label"], n_steps=steps, method=method, return_convergence_delta=True)

        attr, delta = run()  # warm-up, and the agreement check
        a = attr.detach().numpy().ravel()
        rel = float(np.abs(a - ref).max() / max(np.abs(ref).max(), 1e-30))
        times = []
        for _ in range(reps):
            n, t0 = 0, time.perf_counter()
            while True:
                run()
                n += 1
                dt = time.perf_counter() - t0
                if dt >= min_time:
                    break
            times.append(dt / n)
        print(json.dumps({"model": name, "seconds": statistics.median(times), "all": times,
                          "rel_err_vs_reference": rel, "convergence_delta": float(delta.abs().max())}), flush=True)


if __name__ == "__main__":
    main()
