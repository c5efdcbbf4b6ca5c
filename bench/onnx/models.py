"""The models of glassbox's ONNX benchmark, shared by its Python scripts.

ResNet-18 and MobileNetV2 come from torchvision with random weights
(weights=None, torch.manual_seed(0)); the GRU text classifier is defined
here. Batch-norm running statistics are calibrated on a few seeded random
batches before the models are put in eval mode: with the initial ones
(mean 0, variance 1) a randomly initialised ResNet's activations grow
layer by layer, so the comparisons would be made on huge logits.

export_models.py saves each model's state dict next to its ONNX file;
the peers (torch_bench.py, captum_ig.py) rebuild the architecture with
build(name) and load those weights, so all sides run the same numbers.
"""
import torch
import torch.nn as nn
import torchvision

# One example's input shape (without the batch axis) and element type.
IMAGE = (3, 224, 224)
VOCAB, EMBED, HIDDEN, SEQ, CLASSES = 5000, 64, 128, 64, 4

SPECS = {
    "resnet18": {"shape": IMAGE, "dtype": "float32"},
    "mobilenet_v2": {"shape": IMAGE, "dtype": "float32"},
    # Token ids; the gradient side works on gru_emb's embedded inputs.
    "gru": {"shape": (SEQ,), "dtype": "int64"},
    # The GRU classifier without its embedding: input gradients and
    # integrated gradients of a text model are taken with respect to the
    # embedded tokens (what Captum's LayerIntegratedGradients on the
    # embedding layer computes), since token ids are not differentiable.
    "gru_emb": {"shape": (SEQ, EMBED), "dtype": "float32"},
}
NAMES = ["resnet18", "mobilenet_v2", "gru", "gru_emb"]


class GRUClassifier(nn.Module):
    """Embedding -> GRU -> last step -> Linear."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, EMBED)
        self.gru = nn.GRU(EMBED, HIDDEN, batch_first=True)
        self.fc = nn.Linear(HIDDEN, CLASSES)

    def forward(self, tokens):
        return self.body(self.emb(tokens))

    def body(self, e):
        y, _ = self.gru(e)
        return self.fc(y[:, -1])


class GRUBody(nn.Module):
    """The GRU classifier after its embedding: embedded tokens -> logits."""

    def __init__(self, clf):
        super().__init__()
        self.gru, self.fc = clf.gru, clf.fc

    def forward(self, e):
        y, _ = self.gru(e)
        return self.fc(y[:, -1])


def build(name):
    """The architecture of a benchmark model, with fresh seeded weights."""
    torch.manual_seed(0)
    if name == "resnet18":
        return torchvision.models.resnet18(weights=None)
    if name == "mobilenet_v2":
        return torchvision.models.mobilenet_v2(weights=None)
    if name == "gru":
        return GRUClassifier()
    if name == "gru_emb":
        return GRUBody(build("gru"))
    raise ValueError(f"unknown model {name!r}; known: {', '.join(NAMES)}")


def calibrate(model, batches=4, batch=16):
    """Sets batch-norm running statistics from seeded random images
    (a cumulative average: momentum None), then puts model in eval mode."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if bns:
        for m in bns:
            m.reset_running_stats()
            m.momentum = None
        g = torch.Generator().manual_seed(1)
        model.train()
        with torch.no_grad():
            for _ in range(batches):
                model(torch.randn(batch, *IMAGE, generator=g))
        for m in bns:
            m.momentum = 0.1
    return model.eval()


def load(name, folder):
    """The model as export_models.py saved it in folder, in eval mode."""
    m = build(name)
    src = "gru" if name == "gru_emb" else name
    state = torch.load(f"{folder}/{src}.pt")
    if name == "gru_emb":
        state = {k: v for k, v in state.items() if not k.startswith("emb.")}
    m.load_state_dict(state)
    return m.eval()


def example_input(name, batch, seed):
    """A seeded random batch for name: normal images or embeddings,
    uniform token ids."""
    g = torch.Generator().manual_seed(seed)
    spec = SPECS[name]
    if spec["dtype"] == "int64":
        return torch.randint(0, VOCAB, (batch, *spec["shape"]), generator=g)
    return torch.randn(batch, *spec["shape"], generator=g)


def timing_input(folder, entry, batch):
    """The batch every side times: the fixed examples of export_models.py
    (entry is the model's manifest entry) repeated to batch rows."""
    import numpy as np
    x = np.fromfile(f"{folder}/{entry['x']}", "<f4").reshape(-1, *entry["shape"])
    x = np.concatenate([x] * (batch // len(x) + 1))[:batch]
    t = torch.from_numpy(np.ascontiguousarray(x))
    return t.long() if entry["dtype"] == "int64" else t


def blas_library():
    """The BLAS library this process loaded (Debian's torch takes whichever
    libblas.so.3 the alternatives system points to: OpenBLAS when
    libopenblas0 is installed, else the slow reference BLAS)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line}
    except OSError:
        return "unknown"
    for lib in sorted(libs):
        if "openblas" in lib:
            return "OpenBLAS (" + lib + ")"
    return ", ".join(sorted(libs)) or "none loaded"


def set_threads(n):
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set (only possible before any parallel work)
