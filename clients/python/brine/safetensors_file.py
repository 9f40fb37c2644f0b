"""
Reading .safetensors files without running code: through the `safetensors` package when it is installed, otherwise
with the small reader below (standard library and torch only; Debian's python3-torch has no safetensors). Both
check the header as the format specifies. Tied weights that the writer stored once (Hugging Face's `save_model`
convention, which Brine's twins follow: `__metadata__[alias] = kept name`) are restored as the same tensor.
"""
import json
import struct
from pathlib import Path
from typing import Any, Dict, Tuple, Union

MAX_HEADER = 100_000_000

_DTYPES = {
    "BOOL": ("bool", 1),
    "U8": ("uint8", 1),
    "I8": ("int8", 1),
    "I16": ("int16", 2),
    "F16": ("float16", 2),
    "BF16": ("bfloat16", 2),
    "I32": ("int32", 4),
    "F32": ("float32", 4),
    "C64": ("complex64", 8),
    "F64": ("float64", 8),
    "I64": ("int64", 8),
    "U16": ("uint16", 2),
    "U32": ("uint32", 4),
    "U64": ("uint64", 8),
    "F8_E5M2": ("float8_e5m2", 1),
    "F8_E4M3": ("float8_e4m3fn", 1),
}


class SafetensorsError(ValueError):
    pass


def read_header(path: Union[str, Path]) -> Tuple[Dict[str, Any], Dict[str, str], int]:
    """(tensors, __metadata__, where the data starts), with every check the format makes"""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise SafetensorsError("file too short for a safetensors header")
        (n,) = struct.unpack("<Q", head)
        if n > MAX_HEADER:
            raise SafetensorsError(f"header of {n} bytes is too large")
        raw = f.read(n)
        if len(raw) != n:
            raise SafetensorsError("header runs past the end of the file")
        f.seek(0, 2)
        size = f.tell()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SafetensorsError("header is not UTF-8") from None
    if not text.startswith("{"):
        raise SafetensorsError("header does not start with '{'")

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise SafetensorsError("header repeats a key")
        return dict(pairs)

    try:
        header = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as e:
        raise SafetensorsError(f"header is not JSON: {e}") from None
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise SafetensorsError("__metadata__ must map strings to strings")
    spans = []
    for name, info in header.items():
        if not isinstance(info, dict) or info.get("dtype") not in _DTYPES:
            raise SafetensorsError(f"tensor {name!r}: unknown dtype {info.get('dtype') if isinstance(info, dict) else info!r}")
        shape, offsets = info.get("shape"), info.get("data_offsets")
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise SafetensorsError(f"tensor {name!r}: bad shape")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
            raise SafetensorsError(f"tensor {name!r}: bad data_offsets")
        numel = 1
        for d in shape:
            numel *= d
        if offsets[1] - offsets[0] != numel * _DTYPES[info["dtype"]][1]:
            raise SafetensorsError(f"tensor {name!r}: data_offsets do not match its dtype and shape")
        spans.append((offsets[0], offsets[1], name))
    spans.sort()
    at = 0
    for begin, end, name in spans:
        if begin != at:
            raise SafetensorsError(f"tensor {name!r}: data overlaps or leaves a gap")
        at = end
    if 8 + n + at != size:
        raise SafetensorsError("the data does not fill the file exactly")
    return header, metadata, 8 + n


def load_file(path: Union[str, Path], device: str = "cpu") -> Dict[str, Any]:
    """the state dict stored in a .safetensors file, with tied weights restored"""
    import torch

    try:
        from safetensors import safe_open
    except ImportError:
        safe_open = None
    if safe_open is not None:
        with safe_open(str(path), framework="pt", device=str(device)) as f:
            tensors = {k: f.get_tensor(k) for k in f.keys()}
            metadata = f.metadata() or {}
    else:
        header, metadata, start = read_header(path)
        tensors = {}
        with open(path, "rb") as f:
            for name, info in header.items():
                begin, end = info["data_offsets"]
                f.seek(start + begin)
                data = bytearray(f.read(end - begin))
                dtype = getattr(torch, _DTYPES[info["dtype"]][0], None)
                if dtype is None:
                    raise SafetensorsError(f"tensor {name!r}: this torch has no {_DTYPES[info['dtype']][0]}")
                t = torch.frombuffer(data, dtype=dtype) if data else torch.empty(0, dtype=dtype)
                tensors[name] = t.reshape(info["shape"]).to(device)
    for alias, kept in metadata.items():
        if alias not in tensors and kept in tensors:
            tensors[alias] = tensors[kept]
    return tensors
