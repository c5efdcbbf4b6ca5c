#!/usr/bin/python3
"""Peer side of `go run ./bench/gemm`: times numpy's float32 matmul.

Usage: numpy_gemm.py --shapes M,K,N[;M,K,N...] --reps R [--min-time S]

Prints one JSON object on stdout:
  {"numpy": version, "architecture": OpenBLAS kernel (threadpoolctl),
   "library": ..., "threads": ..., "results": [{"m","k","n","gflops": [...]}]}
The thread count and OPENBLAS_CORETYPE come from the environment, which the
Go driver sets for this process only. Exits 3 if numpy is missing.
"""
import argparse
import json
import sys
import time

try:
    import numpy as np
except ImportError:
    print("numpy_gemm.py: numpy is not installed", file=sys.stderr)
    sys.exit(3)


def blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {"architecture": "unknown (threadpoolctl not installed)"}
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            return {
                "architecture": info.get("architecture", "unknown"),
                "library": "%s %s" % (info.get("internal_api"), info.get("version")),
                "threads": info.get("num_threads"),
            }
    return {"architecture": "unknown (no BLAS found by threadpoolctl)"}


def time_shape(m, k, n, reps, min_time):
    rng = np.random.default_rng(1)
    a = rng.random((m, k), dtype=np.float32) * 2 - 1
    b = rng.random((k, n), dtype=np.float32) * 2 - 1
    c = np.empty((m, n), dtype=np.float32)
    np.matmul(a, b, out=c)
    # calibrate: iterations per repetition so that one takes >= min_time
    iters = 1
    while True:
        t = time.perf_counter()
        for _ in range(iters):
            np.matmul(a, b, out=c)
        dt = time.perf_counter() - t
        if dt >= min_time / 4:
            break
        iters *= 2
    iters = max(1, int(iters * min_time / dt))
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(iters):
            np.matmul(a, b, out=c)
        dt = time.perf_counter() - t
        out.append(2.0 * m * n * k * iters / dt / 1e9)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", required=True)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.1)
    args = ap.parse_args()
    res = dict(blas_info())
    res["numpy"] = np.__version__
    res["results"] = []
    for s in args.shapes.split(";"):
        m, k, n = (int(x) for x in s.split(","))
        res["results"].append({"m": m, "k": k, "n": n,
                               "gflops": time_shape(m, k, n, args.reps, args.min_time)})
    json.dump(res, sys.stdout)
    print()


if __name__ == "__main__":
    main()
