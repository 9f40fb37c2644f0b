"""Compares safetensors twins with their originals as real torch loads them.

stdin: JSON [{"id", "original", "twin", "key"}]; key "" means the original is the state dict, else original[key].
Loads the original with torch.load(weights_only=True) and the twin with the `safetensors` package when this Python
has it (torch-oracle's roots), else with the client's own reader (Debian's torch 1.13 has no safetensors). Prints one
JSON line: per file, the names compared, the names that differ (dtype, shape or any element) and the twin's metadata.
"""
import json
import sys

import torch

try:
    from safetensors.torch import load_file as st_load
    from safetensors import safe_open

    READER = "safetensors"
except ImportError:
    st_load = None
    READER = "brine"
from brine.safetensors_file import load_file, read_header


def same(a, b):
    """equal dtype, shape and bytes (exact for every dtype, NaN included)"""
    if a.dtype != b.dtype or tuple(a.shape) != tuple(b.shape):
        return False
    as_bytes = lambda t: t.contiguous().reshape(-1).view(torch.uint8).tolist()
    return a.numel() == 0 or as_bytes(a) == as_bytes(b)


out = []
for item in json.load(sys.stdin):
    # our own fixtures (torch 1.13's weights-only unpickler lacks BINFLOAT, which a checkpoint's optimizer uses)
    original = torch.load(item["original"], map_location="cpu", weights_only=False)
    sd = original[item["key"]] if item["key"] else original
    twin = load_file(item["twin"])
    if st_load is not None:
        raw = st_load(item["twin"])
        with safe_open(item["twin"], framework="pt") as f:
            metadata = f.metadata() or {}
    else:
        raw = None
        metadata = read_header(item["twin"])[1]
    compared, differ = [], []
    for name, t in twin.items():
        if name not in sd:
            differ.append(f"{name}: not in the original")
            continue
        compared.append(name)
        if not same(t, sd[name]):
            differ.append(f"{name}: {t.dtype}{tuple(t.shape)} vs {sd[name].dtype}{tuple(sd[name].shape)}")
    if raw is not None:
        for name, t in raw.items():
            if not same(t, twin[name]):
                differ.append(f"{name}: the safetensors package reads it differently")
    missing = [k for k, v in sd.items() if isinstance(v, torch.Tensor) and k not in twin]
    out.append({"id": item["id"], "reader": READER, "torch": torch.__version__, "compared": sorted(compared),
                "differ": differ, "missing": sorted(missing), "metadata": metadata})
print(json.dumps(out))
