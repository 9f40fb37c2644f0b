#!/usr/bin/env python3
"""Writes libs/scanner/data/harmless.json from the table below (kept as Python so each family shares its reason).

    python3 scripts/harmless/entries.py

An entry is a global Brine may recommend in `torch.serialization.safe_globals([...])` (recipes) and that the Python
client may apply: a class or function whose every path reachable from an unpickler — __new__/__init__ through
NEWOBJ/REDUCE, __setstate__ or __dict__/slot updates through BUILD, __setitem__/append/extend through
SETITEM(S)/APPEND(S), __hash__/__eq__ when it is a dict key or set element — runs no code given as data, imports
nothing, and touches no file, process, socket, environment variable, signal, interpreter-wide state or native library.
Each reason was written from the source of the versions in libs/scanner/data/harmless.reviewed.json (CPython 3.11,
3.13 and 3.14; numpy 1.24, 2.2 and 2.4; torch 1.13, 2.6 and 2.14); scripts/harmless/review.py fingerprints those
methods, and a test fails when a library's code behind an entry changes, so the entry is read again.

`calls`: "arguments" when the entry calls (now or later) callables it is given — a file that passes it a callable
then counts that callable as called; "none" otherwise.
`recipe`: false for entries that are harmless to have called by a plain unpickler (so a file using them is not
graded dangerous) but that Brine never adds to safe_globals.
"""
import json
import os
import sys

E = []


def add(names, kind, reason, calls="none", recipe=True, note=None, gadget_scan=None):
    """gadget_scan: why the entry stands although scripts/gadgets' call graph reaches a sink through it"""
    for n in names if isinstance(names, list) else [names]:
        e = {"global": n, "kind": kind, "reason": reason, "calls": calls}
        if not recipe:
            e["recipe"] = False
        if note:
            e["note"] = note
        if gadget_scan:
            e["gadgetScan"] = gadget_scan
        E.append(e)


# ---- builtins (C types of Objects/*.c) ----
add(["builtins.set", "builtins.frozenset"], "class",
    "C set types (Objects/setobject.c): build from an iterable, hashing elements with their own type's __hash__")
add("builtins.slice", "class", "C slice (Objects/sliceobject.c): stores start, stop and step")
add("builtins.range", "class", "C range (Objects/rangeobject.c): takes integers through __index__ and stores them")
add("builtins.complex", "class", "C complex (Objects/complexobject.c): parses a string or converts numbers")
add(["builtins.bytearray", "builtins.bytes"], "class",
    "C byte strings (Objects/bytearrayobject.c, bytesobject.c): copy bytes, encode a str with a named codec, or allocate zeros")
add(["builtins.list", "builtins.tuple", "builtins.dict"], "class",
    "C containers (Objects/listobject.c, tupleobject.c, dictobject.c): copy an iterable or mapping")
add(["builtins.int", "builtins.float", "builtins.bool", "builtins.str"], "class",
    "C scalar types (Objects/longobject.c, floatobject.c, boolobject.c, unicodeobject.c): parse or convert a value")
add("builtins.Ellipsis", "constant", "the Ellipsis singleton: a value, nothing to call")

# ---- collections ----
add("collections.OrderedDict", "class",
    "C OrderedDict (Objects/odictobject.c; collections/__init__.py re-exports it): a dict that keeps insertion order")
add("collections.Counter", "class",
    "Python dict subclass (collections/__init__.py): __init__ counts an iterable through update(); __missing__ returns 0")
add("collections.defaultdict", "class",
    "C defaultdict (Modules/_collectionsmodule.c): stores default_factory and calls it, without arguments, when a missing key is read after loading",
    calls="arguments")
add("collections.deque", "class", "C deque (Modules/_collectionsmodule.c): copies an iterable, bounded by maxlen")

# ---- datetime, argparse, types, pathlib ----
add(["datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta", "datetime.timezone"], "class",
    "C date and time types (Modules/_datetimemodule.c): build from numbers or their pickled byte state; a tzinfo argument is only stored")
add("argparse.Namespace", "class",
    "Python (argparse.py): __init__ sets its keyword arguments as attributes; __eq__ compares vars(); no other methods run while loading")
add("types.SimpleNamespace", "class",
    "C (Objects/namespaceobject.c): __init__ sets keyword arguments as attributes; __reduce__ rebuilds from its __dict__")
add(["pathlib.PurePath", "pathlib.PurePosixPath", "pathlib.PureWindowsPath", "pathlib.PosixPath",
     "pathlib._local.PurePath", "pathlib._local.PurePosixPath", "pathlib._local.PureWindowsPath",
     "pathlib._local.PosixPath"], "class",
    "pathlib (3.11 pathlib.py, 3.13 pathlib/_local.py, 3.14 pathlib/__init__.py): construction and hashing parse strings only; PosixPath touches the file system only when a method is called after loading",
    note="WindowsPath is left out: constructing it on POSIX raises, and it offers nothing a checkpoint needs")

# ---- numpy ----
add(["numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct"], "function",
    "C (multiarraymodule.c array__reconstruct): makes an empty array of the given ndarray subtype and dtype; a Python subtype's __array_finalize__ runs, so the subtype is counted as called",
    calls="arguments")
add("numpy.ndarray", "class",
    "C (arrayobject.c): __new__ allocates; __setstate__ (array_setstate) sets shape, dtype, flags and copies raw bytes, or stores a list for object arrays")
add("numpy.dtype", "class",
    "C (descriptor.c arraydescr_new/arraydescr_setstate): converts a type code; reads a .dtype attribute of a class argument, so arguments count as called; __setstate__ sets byte order, fields, sizes and metadata",
    calls="arguments")
add(["numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar"], "function",
    "C (scalarapi.c array_scalar): builds a numpy scalar from a dtype and its raw bytes (object dtype: returns the object)")
for t in ["Bool", "Byte", "UByte", "Short", "UShort", "Int", "UInt", "Long", "ULong", "LongLong", "ULongLong",
          "Int8", "UInt8", "Int16", "UInt16", "Int32", "UInt32", "Int64", "UInt64", "Float16", "Float32", "Float64",
          "LongDouble", "Complex64", "Complex128", "CLongDouble", "Object", "Bytes", "Str", "Void", "DateTime64",
          "TimeDelta64", "String"]:
    add(f"numpy.dtypes.{t}DType", "class",
        "numpy's per-type dtype classes (numpy >= 1.25, dtypemeta.c): instances are dtypes, built and set by the C code behind numpy.dtype; StringDType stores its na_object")

# ---- torch: modules, optimizers, schedulers, scaler ----
MODULE_REASON = ("torch.nn Module (torch/nn/modules/module.py): NEWOBJ is object.__new__; BUILD runs Module.__setstate__, "
                 "which updates __dict__ and adds missing hook dicts; REDUCE runs __init__, which allocates parameters "
                 "(on the device given, initialising that device's runtime as torch's own tensor rebuilds do)")
NN = {
    "container": ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"],
    "linear": ["Identity", "Linear", "Bilinear", "NonDynamicallyQuantizableLinear"],
    "conv": ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"],
    "batchnorm": ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"],
    "normalization": ["LayerNorm", "GroupNorm", "LocalResponseNorm", "RMSNorm"],
    "instancenorm": ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"],
    "dropout": ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout"],
    "sparse": ["Embedding", "EmbeddingBag"],
    "activation": ["ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid",
                   "Tanh", "Softmax", "Softmin", "LogSoftmax", "Softplus", "Softsign", "Hardtanh", "Hardswish",
                   "Hardsigmoid", "Tanhshrink", "Threshold", "GLU", "LogSigmoid", "MultiheadAttention"],
    "pooling": ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d",
                "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"],
    "flatten": ["Flatten", "Unflatten"],
    "upsampling": ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"],
    "pixelshuffle": ["PixelShuffle", "PixelUnshuffle"],
    "padding": ["ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d",
                "ReplicationPad1d", "ReplicationPad2d"],
    "rnn": ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"],
    "transformer": ["TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer", "TransformerDecoder",
                    "Transformer"],
    "loss": ["MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "SmoothL1Loss",
             "HuberLoss", "KLDivLoss"],
}
OWN_SETSTATE = {
    "MultiheadAttention": "; its __setstate__ defaults _qkv_same_embed_dim before Module's",
    "Softmax": "; its __setstate__ defaults dim", "Softmin": "; its __setstate__ defaults dim",
    "LogSoftmax": "; its __setstate__ defaults dim", "AvgPool3d": "; its __setstate__ defaults padding options",
    "Upsample": "; its __setstate__ defaults recompute_scale_factor",
    "TransformerEncoderLayer": "; its __setstate__ defaults activation to F.relu",
    "TransformerDecoderLayer": "; its __setstate__ defaults activation to F.relu",
    "RNN": "; RNNBase.__setstate__ rebuilds weight-name lists and reads its own parameters with getattr; RNNBase.__setattr__ keeps _flat_weights in step",
    "LSTM": "; RNNBase.__setstate__ rebuilds weight-name lists and reads its own parameters with getattr; RNNBase.__setattr__ keeps _flat_weights in step",
    "GRU": "; RNNBase.__setstate__ rebuilds weight-name lists and reads its own parameters with getattr; RNNBase.__setattr__ keeps _flat_weights in step",
}
RNN_SCAN = ("the call graph reaches ctypes through __init__ → flatten_parameters → torch.cuda.device_of: only when the "
            "weights are CUDA tensors, and then torch's own CUDA runtime loads its fixed libraries (NVML), as any CUDA "
            "tensor rebuild does; no library, path or code comes from the file")
for mod, classes in NN.items():
    for c in classes:
        add(f"torch.nn.modules.{mod}.{c}", "class", MODULE_REASON + OWN_SETSTATE.get(c, ""),
            note="hooks a module holds are globals of the file too, so they must be on this list as well",
            gadget_scan=RNN_SCAN if mod == "rnn" and not c.endswith("Cell") else None)
add(["torch.nn.functional.relu", "torch.nn.functional.gelu", "torch._C._nn.gelu", "torch.nn.functional.silu"],
    "function",
    "activation functions (torch/nn/functional.py, ATen): compute on a tensor; a TransformerEncoderLayer stores one as its activation and calls it on tensors in forward()")

OPTIM_REASON = ("torch.optim Optimizer (torch/optim/optimizer.py): BUILD runs __setstate__, which updates __dict__, adds missing "
                "hook dicts and wraps the class's step() for the profiler (what construction does too); REDUCE runs __init__, "
                "which records parameter groups")
for mod, c in [("sgd", "SGD"), ("adam", "Adam"), ("adamw", "AdamW"), ("adagrad", "Adagrad"), ("adadelta", "Adadelta"),
               ("adamax", "Adamax"), ("asgd", "ASGD"), ("nadam", "NAdam"), ("radam", "RAdam"), ("rmsprop", "RMSprop"),
               ("rprop", "Rprop"), ("sparse_adam", "SparseAdam"), ("lbfgs", "LBFGS")]:
    own = "; its __setstate__ also fills defaults per param group and turns integer steps into tensors" if c not in ("SparseAdam", "LBFGS") else ""
    add(f"torch.optim.{mod}.{c}", "class", OPTIM_REASON + own)
SCHED_REASON = ("torch.optim.lr_scheduler (torch/optim/lr_scheduler.py): no __setstate__, so BUILD updates __dict__; REDUCE runs "
                "__init__, which wraps the optimizer's step() and sets learning rates in its param groups")
for c in ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "LinearLR",
          "ConstantLR", "PolynomialLR", "OneCycleLR", "ReduceLROnPlateau", "SequentialLR", "ChainedScheduler"]:
    add(f"torch.optim.lr_scheduler.{c}", "class", SCHED_REASON)
for c in ["LambdaLR", "MultiplicativeLR", "CyclicLR"]:
    add(f"torch.optim.lr_scheduler.{c}", "class",
        SCHED_REASON + "; __init__ calls the lr_lambda/scale_fn it is given, so those count as called", calls="arguments")
# GradScaler objects are left out: __init__ probes for CUDA and torch_xla (importlib.util.find_spec), and checkpoints
# hold scaler.state_dict(), a plain dict, not the object.

# ---- torch.jit: what TorchScript archives' pickles call (torch.jit.load resolves them; harmless in Python too) ----
add(["torch.jit._pickle.build_intlist", "torch.jit._pickle.build_tensorlist", "torch.jit._pickle.build_doublelist",
     "torch.jit._pickle.build_boollist", "torch.jit._pickle.build_tensor_from_id", "torch.jit._pickle.restore_type_tag"],
    "function", "torch/jit/_pickle.py: return their argument (build_tensor_from_id returns an int id unchanged)")

# ---- harmless to have called, never recommended ----
add("builtins.getattr", "function",
    "attribute lookup: returns an attribute of an object the file built (a scheduler's bound method, say); Brine treats what it returns as a value built while loading, so calling that value is graded on its own",
    recipe=False)

out = {
    "about": sys.modules[__name__].__doc__.strip(),
    "entries": sorted(E, key=lambda e: e["global"]),
}
path = os.path.join(os.path.dirname(__file__), "..", "..", "libs", "scanner", "data", "harmless.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(f"{len(E)} entries → {os.path.normpath(path)}")
