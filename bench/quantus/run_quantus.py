#!/usr/bin/python3
"""Quantus's side of the cross-check (bench/quantus/README.md).

Reads what `go run ./bench/quantus/glassbox export MODEL.gbx DIR` wrote:
the network's weights, the standardised test inputs, the labels, and
glassbox's saliency and integrated-gradients maps; rebuilds the network
in PyTorch; scores the same maps with Quantus's own metrics (vendored
under third_party/quantus, LGPL-3.0) at the same settings; and prints
both sides' figures, mean ± spread over seeds where they are sampled.

Run with Debian's python3-torch, -numpy, -scipy, -sklearn, -skimage,
-tqdm, -matplotlib:

    /usr/bin/python3 bench/quantus/run_quantus.py DIR
"""
import json
import os
import sys
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "third_party"))
# Quantus's perturbation module imports OpenCV for blurs none of these
# metrics use; a stand-in keeps python3-opencv off the list.
sys.modules.setdefault("cv2", types.ModuleType("cv2"))

import torch  # noqa: E402
import quantus  # noqa: E402
from quantus.functions.similarity_func import correlation_spearman  # noqa: E402


def load(d):
    meta = json.load(open(os.path.join(d, "glassbox.json")))
    layers, k = [], 0
    for kind in meta["layers"]:
        if kind == "relu":
            layers.append(torch.nn.ReLU())
            continue
        w = np.load(os.path.join(d, f"layer_{k}_weight.npy"))  # [in, out]
        b = np.load(os.path.join(d, f"layer_{k}_bias.npy"))
        lin = torch.nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        k += 1
    logits = torch.nn.Sequential(torch.nn.Flatten(), *layers).eval()
    probs = torch.nn.Sequential(logits, torch.nn.Softmax(dim=1)).eval()
    x = np.load(os.path.join(d, "x.npy"))
    y = np.load(os.path.join(d, "y.npy")).astype(int)
    maps = {m: np.load(os.path.join(d, f"a_{m}.npy")) for m in ("saliency", "ig")}
    return meta, logits, probs, x, y, maps


def saliency_of(logits):
    """|gradient| of the explained logit, as glassbox's saliency."""
    def explain(model, inputs, targets, **kwargs):
        x = torch.tensor(np.asarray(inputs), dtype=torch.float32, requires_grad=True)
        out = logits(x)
        t = torch.as_tensor(np.asarray(targets).reshape(-1), dtype=torch.long)
        out.gather(1, t[:, None]).sum().backward()
        return np.abs(x.grad.detach().numpy()).reshape(np.asarray(inputs).shape)
    return explain


def pearson_rows(a, b, batched=True, **kwargs):
    """Quantus's correlation_pearson, row by row: Debian's SciPy 1.10
    predates pearsonr's axis argument that Quantus calls."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    return (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))


def main(d):
    meta, logits, probs, x, y, maps = load(d)
    st = meta["settings"]
    gb = meta["figures"]
    # Removed features become 0, the training mean in these standardised
    # units, as glassbox's baseline (Quantus's "black" is the row's
    # minimum).
    # Inputs as [N, 1, d] "images" of one row: Quantus's model wrapper
    # expects a channel axis.
    xq = x[:, None, :]
    # Check the rebuilt network: glassbox's saliency is its gradient.
    g = saliency_of(logits)(None, xq, y)
    print(f"rebuilt network: |torch gradient − glassbox saliency| ≤ {np.abs(g[:, 0, :] - maps['saliency']).max():.2e}")
    rows, notes = [], []

    def row(name, ours, theirs):
        ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
        rows.append((name, ours, theirs))

    for m in ("saliency", "ig"):
        a = maps[m][:, None, :]
        sp = quantus.Sparseness(abs=True, normalise=True, disable_warnings=True)(model=probs, x_batch=xq, y_batch=y, a_batch=a.copy(), device="cpu")
        row(f"{m} sparseness", [v[0] for v in gb[f"{m}/sparseness"]], sp)
        # One input per call: Quantus's normalise_by_max divides by the
        # largest |value| of the whole batch, glassbox by each map's own.
        ec = [quantus.EffectiveComplexity(eps=st["complexity_eps"], abs=True, normalise=True, disable_warnings=True)(
            model=probs, x_batch=xq[i:i + 1], y_batch=y[i:i + 1], a_batch=a[i:i + 1].copy(), device="cpu")[0] for i in range(len(x))]
        row(f"{m} effective complexity", [v[0] for v in gb[f"{m}/effective_complexity"]], ec)
        fc = []
        for seed in range(st["seeds"]):
            np.random.seed(seed)
            fc.append(quantus.FaithfulnessCorrelation(nr_runs=st["faith_runs"], subset_size=st["faith_subset"], perturb_baseline=0.0, similarity_func=pearson_rows,
                                                      abs=False, normalise=False, return_aggregate=False, disable_warnings=True)(
                model=probs, x_batch=xq, y_batch=y, a_batch=a.copy(), device="cpu", softmax=True))
        # glassbox measures the drop of the probability, as Predict gives
        # it; softmax=True makes Quantus do the same.
        row(f"{m} faithfulness correlation", gb[f"{m}/faithfulness_correlation"], np.array(fc).T)
        np.random.seed(0)
        logit_fc = quantus.FaithfulnessCorrelation(nr_runs=st["faith_runs"], subset_size=st["faith_subset"], perturb_baseline=0.0, similarity_func=pearson_rows,
                                                   abs=False, normalise=False, return_aggregate=False, disable_warnings=True)(
            model=probs, x_batch=xq, y_batch=y, a_batch=a.copy(), device="cpu", softmax=False)
        notes.append(f"{m}: on the logits (Quantus softmax=False) faithfulness correlation is {np.mean(logit_fc):.4f}")
    a = maps["saliency"][:, None, :]
    ex = saliency_of(logits)
    rl = quantus.RandomLogit(num_classes=meta["outputs"], similarity_func=correlation_spearman, abs=False, normalise=False, disable_warnings=True)(
        model=probs, x_batch=xq, y_batch=y, a_batch=a.copy(), device="cpu", explain_func=ex, softmax=False)
    row("saliency random logit (Spearman)", [v[0] for v in gb["saliency/random_logit"]], rl)
    ms, ll = [], []
    for seed in range(st["seeds"]):
        np.random.seed(seed)
        ms.append(quantus.MaxSensitivity(nr_samples=st["noise_samples"], lower_bound=st["uniform_low"], abs=False, normalise=False, disable_warnings=True)(
            model=probs, x_batch=xq, y_batch=y, a_batch=a.copy(), device="cpu", explain_func=ex, softmax=False))
        np.random.seed(seed)
        ll.append(quantus.LocalLipschitzEstimate(nr_samples=st["noise_samples"], perturb_std=st["gauss_std"], perturb_mean=0.0, abs=False, normalise=False, disable_warnings=True)(
            model=probs, x_batch=xq, y_batch=y, a_batch=a.copy(), device="cpu", explain_func=ex, softmax=False))
    row("saliency max-sensitivity", gb["saliency/max_sensitivity"], np.array(ms).T)
    row("saliency local Lipschitz", gb["saliency/local_lipschitz"], np.array(ll).T)

    print(f"{len(x)} breast-cancer test inputs; sampled figures: mean over inputs of the per-input mean over {st['seeds']} seeds (± the mean per-input spread over seeds)")
    print(f"{'metric':36s} {'glassbox':>18s} {'Quantus':>18s} {'max |Δ| per input':>18s}")
    for name, ours, theirs in rows:
        o = ours.reshape(len(x), -1)
        t = theirs.reshape(len(x), -1)
        om, tm = o.mean(axis=1), t.mean(axis=1)
        osd, tsd = o.std(axis=1).mean(), t.std(axis=1).mean()
        print(f"{name:36s} {om.mean():9.4f} ± {osd:6.4f} {tm.mean():9.4f} ± {tsd:6.4f} {np.abs(om - tm).max():18.4g}")
    for n in notes:
        print(n)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/glassbox-quantus")
