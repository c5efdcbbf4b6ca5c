"""Writes tiny_cnn.onnx: a small digit CNN exported by PyTorch, the fixture
predictor's ONNX tests import. Weights are random from a fixed seed; what the
tests check (import, predict, explain, Grad-CAM, IG completeness) needs no
training. Run with Debian's python3-torch: /usr/bin/python3 make_cnn_onnx.py"""
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(8 * 7 * 7, 10),
).eval()
with torch.no_grad():
    # Non-trivial batch-norm statistics, so the exporter's folding matters.
    bn = model[4]
    bn.running_mean.uniform_(-0.5, 0.5)
    bn.running_var.uniform_(0.5, 2.0)
x = torch.rand(1, 1, 28, 28)
torch.onnx.export(model, x, "tiny_cnn.onnx", opset_version=13, input_names=["image"], output_names=["logits"],
                  dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
# The reference output of a fixed input, for the import test.
torch.manual_seed(1)
probe = torch.rand(1, 1, 28, 28)
with torch.no_grad():
    out = model(probe)
with open("tiny_cnn_probe.txt", "w") as f:
    f.write(" ".join(f"{v:.9g}" for v in probe.flatten().tolist()) + "\n")
    f.write(" ".join(f"{v:.9g}" for v in out.flatten().tolist()) + "\n")
