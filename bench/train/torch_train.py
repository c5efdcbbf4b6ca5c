#!/usr/bin/env python3
"""PyTorch side of glassbox's training-throughput benchmark.

Runs the same four models as bench/train/main.go on synthetic inputs and
prints one JSON object per model: median samples/s over several timed
repetitions after a warm-up, and the process's peak resident memory.
Run by `go run ./bench/train`, which sets the environment of this process
only (OPENBLAS_CORETYPE, OPENBLAS_NUM_THREADS) and uses torch.set_num_threads(2).
"""
import gc
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
torch.manual_seed(0)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = nn.Linear(784, 256), nn.Linear(256, 128), nn.Linear(128, 10)

    def forward(self, x):
        return self.c(F.relu(self.b(F.relu(self.a(x)))))


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 6, 5, padding=2), nn.Conv2d(6, 16, 5)
        self.f1, self.f2, self.f3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = x.flatten(1)
        return self.f3(F.relu(self.f2(F.relu(self.f1(x)))))


class Cifar(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(3, 32, 3, padding=1), nn.Conv2d(32, 32, 3, padding=1)
        self.c3, self.c4 = nn.Conv2d(32, 64, 3, padding=1), nn.Conv2d(64, 64, 3, padding=1)
        self.f1, self.f2 = nn.Linear(64 * 8 * 8, 256), nn.Linear(256, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c2(F.relu(self.c1(x)))), 2)
        x = F.max_pool2d(F.relu(self.c4(F.relu(self.c3(x)))), 2)
        return self.f2(F.relu(self.f1(x.flatten(1))))


class CharLSTM(nn.Module):
    def __init__(self, vocab=96):
        super().__init__()
        self.emb = nn.Embedding(vocab, 64)
        self.lstm = nn.LSTM(64, 256, batch_first=True)
        self.out = nn.Linear(256, vocab)

    def forward(self, x):
        h, _ = self.lstm(self.emb(x))
        return self.out(h)


def reset_peak_rss():
    # Writing 5 to clear_refs resets VmHWM (Linux >= 4.0), so each
    # workload reports its own peak rather than the largest so far.
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def bench(name, net, make_batch, loss_fn, batch, steps, reps=5):
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x, y = make_batch()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()

    for _ in range(max(3, steps // 2)):
        step()
    rates = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(batch * steps / (time.perf_counter() - t0))
    return {"model": name, "batch": batch, "samples_per_sec": statistics.median(rates),
            "all": rates, "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb():
    # VmHWM, not getrusage: ru_maxrss survives exec, so it would report the
    # Go parent's peak instead of this process's.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    which = sys.argv[2].split(",") if len(sys.argv) > 2 else ["mlp", "lenet", "cifar", "lstm"]
    ce = nn.CrossEntropyLoss()
    runs = {
        "mlp": lambda: bench("mlp", Mlp(), lambda: (torch.randn(128, 784), torch.randint(0, 10, (128,))), ce, 128, 50),
        "lenet": lambda: bench("lenet", LeNet(), lambda: (torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))), ce, 64, 30),
        "cifar": lambda: bench("cifar", Cifar(), lambda: (torch.randn(128, 3, 32, 32), torch.randint(0, 10, (128,))), ce, 128, 4),
        "lstm": lambda: bench("lstm", CharLSTM(), lambda: (torch.randint(0, 96, (64, 64)), torch.randint(0, 96, (64, 64))),
                              lambda out, y: ce(out.reshape(-1, 96), y.reshape(-1)), 64, 4),
    }
    info = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = [{k: p.get(k) for k in ("internal_api", "architecture", "num_threads")} for p in threadpool_info()]
    except Exception as e:  # threadpoolctl is optional
        info["blas"] = str(e)
    print(json.dumps({"info": info}), flush=True)
    for w in which:
        reset_peak_rss()
        print(json.dumps(runs[w]()), flush=True)


if __name__ == "__main__":
    main()
