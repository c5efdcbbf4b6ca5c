"""Peers for bench/rules: rebuilds glassbox's small CNN in PyTorch (float64)
and compares glassbox's attributions with Captum's (if its source folder is
given) and with an explicit layer-by-layer LRP written here from the rules'
definitions (each layer's relevance R_in = x * d/dx[z'(x) . R_out / stab(z')]).
Usage: python3 peers.py MODEL.json [CAPTUM_SRC]"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
d = json.load(open(sys.argv[1]))
pool = d["pool"]
c1w = torch.tensor(d["c1w"]).reshape(3, 1, 3, 3)
c1b = torch.tensor(d["c1b"])
c2w = torch.tensor(d["c2w"]).reshape(4, 3, 3, 3)
c2b = torch.tensor(d["c2b"])
nflat = 16 if pool else 144
lw = torch.tensor(d["lw"]).reshape(nflat, 3).T
lb = torch.tensor(d["lb"])
x = torch.tensor(d["x"]).reshape(1, 1, 8, 8)
base = torch.tensor(d["b"]).reshape(1, 1, 8, 8)
LABEL = 1


def report(name, ref, what):
    g = np.array(d[name])
    ref = np.asarray(ref).ravel()
    print(f"{name:15s} vs {what:9s} max|diff| {np.abs(ref - g).max():.2e}  max|peer| {np.abs(ref).max():.3f}"
          f"  sum peer {ref.sum():+.5f}  glassbox {g.sum():+.5f}")


# Explicit LRP.
a1 = F.relu(F.conv2d(x, c1w, c1b, padding=1))
if pool:
    p1, idx = F.max_pool2d(a1, 2, return_indices=True)
else:
    p1 = a1
a2 = F.relu(F.conv2d(p1, c2w, c2b))
flat = a2.flatten(1)
out = F.linear(flat, lw, lb)


def stab(z, eps):
    return z + eps * torch.where(z >= 0, 1.0, -1.0)


def layer(inp, fwd, w, b, R, rule, eps, gamma):
    if rule == "epsilon":
        w2, b2 = w, b
    elif rule == "gamma":
        w2, b2 = w + gamma * w.clamp(min=0), b + gamma * b.clamp(min=0)
    else:  # zplus
        w2, b2 = w.clamp(min=0), None
    inp = inp.detach().requires_grad_()
    z = fwd(inp, w2, b2)
    (z * (R / stab(z, eps)).detach()).sum().backward()
    return (inp * inp.grad).detach()


def lrp(dense, conv, eps, gamma):
    R = torch.zeros_like(out)
    R[0, LABEL] = out[0, LABEL]
    R = layer(flat, lambda i, w, b: F.linear(i, w, b), lw, lb, R, dense, eps, gamma).reshape(a2.shape)
    R = layer(p1, lambda i, w, b: F.conv2d(i, w, b), c2w, c2b, R, conv, eps, gamma)
    if pool:
        R = F.max_unpool2d(R, idx, 2, output_size=a1.shape[2:])  # the window's maximum takes it all
    return layer(x, lambda i, w, b: F.conv2d(i, w, b, padding=1), c1w, c1b, R, conv, eps, gamma)


print(f"f(x) = {out[0, LABEL].item():+.5f} for output {LABEL}")
for name, args in {"lrp": ("epsilon", "epsilon", 1e-9, 0), "lrp_eps": ("epsilon", "epsilon", 0.1, 0),
                   "lrp_composite": ("epsilon", "zplus", 1e-6, 0), "lrp_gamma": ("gamma", "gamma", 1e-6, 0.25),
                   "lrp_zplus": ("zplus", "zplus", 1e-6, 0)}.items():
    report(name, lrp(*args).numpy(), "explicit")

if len(sys.argv) < 3 or not sys.argv[2]:
    print("no Captum source given (-captum DIR): Captum comparisons skipped")
    sys.exit(0)
sys.path.insert(0, sys.argv[2])
from captum.attr import DeepLift, Deconvolution, GuidedBackprop, InputXGradient  # noqa: E402

layers = [torch.nn.Conv2d(1, 3, 3, padding=1), torch.nn.ReLU()]
if pool:
    layers.append(torch.nn.MaxPool2d(2))
layers += [torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(nflat, 3)]
m = torch.nn.Sequential(*layers)
convs = [l for l in m if isinstance(l, torch.nn.Conv2d)]
with torch.no_grad():
    convs[0].weight.copy_(c1w)
    convs[0].bias.copy_(c1b)
    convs[1].weight.copy_(c2w)
    convs[1].bias.copy_(c2b)
    m[-1].weight.copy_(lw)
    m[-1].bias.copy_(lb)
xi = x.clone().requires_grad_()
with torch.no_grad():
    print(f"f(x) - f(baseline) = {(m(x) - m(base))[0, LABEL].item():+.5f}")
report("deeplift", DeepLift(m).attribute(xi, baselines=base, target=LABEL).detach(), "Captum")
report("guidedbackprop", GuidedBackprop(m).attribute(xi, target=LABEL).detach(), "Captum")
report("deconvolution", Deconvolution(m).attribute(xi, target=LABEL).detach(), "Captum")
report("inputxgradient", InputXGradient(m).attribute(xi, target=LABEL).detach(), "Captum")
