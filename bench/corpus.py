"""Writes the scanner bench corpus: one pickle of at least 50 MB per shape, with Python's own pickle (no torch).

usage: python3 bench/corpus.py OUT_DIR [SHAPE ...]     (all shapes when none is named)

Each shape stresses a different part of a pickle walker: text opcodes, the memo, floats, short strings, long
payloads, nesting, containers, and the two real-world wrappers around pickles (numpy object arrays, legacy torch).
"""

import collections
import io
import os
import pickle
import struct
import sys
import types

MB = 1_000_000
TARGET = 50 * MB


def fill(make_item, per_item_bytes, target=TARGET):
    """a list of items whose pickle is about `target` bytes"""
    return [make_item(i) for i in range(int(target / per_item_bytes) + 1)]


def p0_text(path):
    # protocol 0: every value is a text line (INT, FLOAT, UNICODE, PUT/GET with decimal indices)
    items = fill(lambda i: {"id": i, "name": "item%d" % (i % 100000), "score": i * 0.25}, 58)
    with open(path, "wb") as f:
        pickle.dump(items, f, protocol=0)


def p2_dict_of_lists(path):
    # the shape of a metrics or dataset dump: a dict of long lists of floats, ints, strings and tuples
    n = 1_300_000
    data = {
        "floats": [i * 0.37 for i in range(n)],
        "ints": list(range(n)),
        "labels": ["s%dx" % (i % 50000) for i in range(n)],
        "pairs": [(i, i * 0.5, "a%d" % i) for i in range(n // 2)],
    }
    with open(path, "wb") as f:
        pickle.dump(data, f, protocol=2)


def p4_small_dicts(path):
    items = fill(lambda i: {"id": i, "label": "cat" if i % 3 else "dog", "score": i * 0.5, "box": (i, i + 1, 3, 4)}, 40)
    with open(path, "wb") as f:
        pickle.dump(items, f, protocol=4)


def p5_mixed(path):
    # protocol 5: frames, BYTEARRAY8, short bytes, ints, floats and text in tuples
    items = fill(lambda i: (i, i * 1.5, "k%d" % i, bytes([i % 256]) * 8, bytearray(b"xy" * 4)), 55)
    with open(path, "wb") as f:
        pickle.dump(items, f, protocol=5)


def memo_heavy(path):
    # every object memoized and referenced again: memo indices in the millions, LONG_BINGET everywhere
    objs = [("t%d" % i, i) for i in range(1_600_000)]
    data = [objs, list(reversed(objs))]
    with open(path, "wb") as f:
        pickle.dump(data, f, protocol=2)


def many_floats(path):
    items = [i * 1.000001 for i in range(TARGET // 9 + 1)]
    with open(path, "wb") as f:
        pickle.dump(items, f, protocol=4)


def short_strings(path):
    items = fill(lambda i: "w%07d" % i, 11)
    with open(path, "wb") as f:
        pickle.dump(items, f, protocol=4)


def long_payloads(path):
    # a few very long strings and bytes: a walker that reads them instead of skipping them pays for every byte
    blob = os.urandom(12 * MB)
    text = "z" * (6 * MB)
    data = {"a": blob, "b": blob[::-1], "c": bytes(12 * MB), "d": bytearray(blob[: 6 * MB]), "t1": text, "t2": text + "!"}
    with open(path, "wb") as f:
        pickle.dump(data, f, protocol=4)


def deep_nesting(path):
    # lists nested 900 deep (the pickler's own recursion limit permitting), repeated until the file is large
    sys.setrecursionlimit(20000)
    depth = 900

    def nest(i):
        v = [i]
        for _ in range(depth):
            v = [v, 1]
        return v

    items = [nest(i) for i in range(TARGET // (depth * 7) + 1)]
    with open(path, "wb") as f:
        pickle.dump(items, f, protocol=2)


def numpy_object_array(path):
    # an ndarray of dtype object as numpy pickles it: _reconstruct, then BUILD with the elements as a list
    try:
        import numpy

        arr = numpy.empty(2_000_000, dtype=object)
        for i in range(len(arr)):
            arr[i] = ("r%d" % i, i, i * 0.5) if i % 2 else {"k": i}
        with open(path, "wb") as f:
            pickle.dump(arr, f, protocol=2)
        return
    except ImportError:
        pass
    # without numpy: the same opcodes, written with stand-in classes named as numpy names them
    mod = types.ModuleType("numpy.core.multiarray")
    np = types.ModuleType("numpy")
    sys.modules["numpy"] = np
    sys.modules["numpy.core"] = types.ModuleType("numpy.core")
    sys.modules["numpy.core.multiarray"] = mod

    def _reconstruct(*a):
        raise RuntimeError

    _reconstruct.__module__ = "numpy.core.multiarray"
    _reconstruct.__qualname__ = "_reconstruct"
    mod._reconstruct = _reconstruct

    class ndarray:
        pass

    ndarray.__module__ = "numpy"
    ndarray.__qualname__ = "ndarray"
    np.ndarray = ndarray

    class dtype:
        def __reduce__(self):
            return (dtype, ("O8", False, True), (3, "|", None, None, None, -1, -1, 63))

    dtype.__module__ = "numpy"
    dtype.__qualname__ = "dtype"
    np.dtype = dtype

    class FakeArray:
        def __init__(self, items):
            self.items = items

        def __reduce__(self):
            return (_reconstruct, (ndarray, (0,), b"b"), (1, (len(self.items),), dtype(), False, self.items))

    items = [("r%d" % i, i, i * 0.5) if i % 2 else {"k": i} for i in range(2_000_000)]
    with open(path, "wb") as f:
        pickle.dump(FakeArray(items), f, protocol=2)


def legacy_torch(path):
    # torch.save(..., _use_new_zipfile_serialization=False) of a state dict with many small tensors: the five
    # pickles of the legacy format, the data pickle large, then the raw storages
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")
    sys.modules["torch"] = torch
    sys.modules["torch._utils"] = utils

    class FloatStorage:
        pass

    FloatStorage.__module__ = "torch"
    FloatStorage.__qualname__ = "FloatStorage"
    torch.FloatStorage = FloatStorage

    def _rebuild_tensor_v2(*a):
        raise RuntimeError

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2

    class Storage:
        def __init__(self, key, numel):
            self.key, self.numel = key, numel

    class Tensor:
        def __init__(self, storage, shape):
            self.storage, self.shape = storage, shape

        def __reduce__(self):
            stride = (1,) * len(self.shape)
            return (_rebuild_tensor_v2, (self.storage, 0, self.shape, stride, False, collections.OrderedDict()))

    count = 420_000
    storages = [Storage(str(i), 4) for i in range(count)]
    state = collections.OrderedDict(
        ("layers.%d.block.weight" % i, Tensor(storages[i], (2, 2))) for i in range(count)
    )

    class LegacyPickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", FloatStorage, obj.key, "cpu", obj.numel, None)
            return None

    with open(path, "wb") as f:
        pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        pickle.dump({"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}, f, protocol=2)
        LegacyPickler(f, protocol=2).dump(state)
        pickle.dump([s.key for s in storages], f, protocol=2)
        for s in storages:
            f.write(struct.pack("<q", s.numel))
            f.write(struct.pack("<4f", 1.0, 2.0, 3.0, 4.0))


SHAPES = {
    "p0-text": p0_text,
    "p2-dict-of-lists": p2_dict_of_lists,
    "p4-small-dicts": p4_small_dicts,
    "p5-mixed": p5_mixed,
    "memo-heavy": memo_heavy,
    "many-floats": many_floats,
    "short-strings": short_strings,
    "long-payloads": long_payloads,
    "deep-nesting": deep_nesting,
    "numpy-object-array": numpy_object_array,
    "legacy-torch": legacy_torch,
}


def main():
    out = sys.argv[1]
    names = sys.argv[2:] or list(SHAPES)
    os.makedirs(out, exist_ok=True)
    for name in names:
        ext = ".pt" if name == "legacy-torch" else ".pkl"
        path = os.path.join(out, name + ext)
        if os.path.exists(path):
            continue
        SHAPES[name](path + ".tmp")
        os.replace(path + ".tmp", path)
        print("%s: %.1f MB" % (name, os.path.getsize(path) / MB), flush=True)


if __name__ == "__main__":
    main()
