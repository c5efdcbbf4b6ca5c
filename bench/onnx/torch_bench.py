#!/usr/bin/env python3
"""PyTorch inference side of glassbox's ONNX benchmark.

    /usr/bin/python3 bench/onnx/torch_bench.py DIR THREADS MODELS BATCHES REPS MIN_TIME

Loads each model's weights from DIR (written by export_models.py), and
times inference at each batch size on the fixed examples of manifest.json
(repeated to the batch size, as every side does) in two forms, so the
peer runs at its best: eager under torch.inference_mode, and
TorchScript (torch.jit.trace, then torch.jit.freeze, which folds batch
norm into the convolutions, and torch.jit.optimize_for_inference). A
measurement is the median seconds per call over REPS repetitions, each
repeating the call until MIN_TIME seconds have passed, after warm-up
calls. Prints one JSON object per model, batch and form. Run by
`go run ./bench/onnx`, which sets THREADS to glassbox's thread count and
OPENBLAS_NUM_THREADS, OPENBLAS_CORETYPE for this process only.
"""
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402


def per_call(fn, reps, min_time, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        n, t0 = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            dt = time.perf_counter() - t0
            if dt >= min_time:
                break
        times.append(dt / n)
    return statistics.median(times), times


def main():
    folder, threads, names, batches = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(","), sys.argv[4].split(",")
    reps, min_time = int(sys.argv[5]), float(sys.argv[6])
    models.set_threads(threads)
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    print(json.dumps({"info": {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": models.blas_library(),
                               "interop_threads": torch.get_num_interop_threads(),
                               "mkldnn": torch.backends.mkldnn.is_available(),
                               "capability": torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else None}}),
          flush=True)
    for name in names:
        m = models.load(name, folder)
        for b in batches:
            b = int(b)
            x = models.timing_input(folder, manifest["models"][name], b)
            forms = {"eager": lambda: m(x)}
            try:
                with torch.no_grad():
                    traced = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(m, x).eval()))
                forms["torchscript"] = lambda: traced(x)
            except Exception as e:  # noqa: BLE001 - report and go on with eager
                print(f"torch_bench: {name}: TorchScript failed: {e}", file=sys.stderr)
            for form, call in forms.items():
                def fn():
                    with torch.inference_mode():
                        call()
                sec, all_ = per_call(fn, reps, min_time, warmup=3 if form == "torchscript" else 1)
                print(json.dumps({"model": name, "batch": b, "form": form, "seconds": sec, "all": all_}), flush=True)


if __name__ == "__main__":
    main()
