#!/usr/bin/env python3
"""Fingerprints what an unpickler can reach through each entry of libs/scanner/data/harmless.json, in this
interpreter, and lists the modules every victim process has.

    python3 scripts/harmless/review.py [harmless.json] > out.json      # one interpreter; update.sh runs all three

For a class: __new__, __init__ and the metaclass's __call__ (REDUCE, NEWOBJ), __setstate__, __setattr__ (BUILD),
__setitem__, append, extend (SETITEM(S), APPEND(S)), __hash__, __eq__ (dict keys, set elements), __missing__ and
__getattr__ (reads after BUILD), numpy's __array_finalize__ (_reconstruct). For a function: the function. Each is
recorded as where it is defined and a digest of its source ("py:<qualname>:<sha256[:16]>"), or "c:<qualname>" for
code in C, so a change in any of them shows up as a difference the test reports and a person reads again.
Imports nothing beyond the entries' own modules (importing them is what the unpickler would do first anyway).
"""
import hashlib
import importlib
import inspect
import json
import os
import sys

CLASS_METHODS = ["__new__", "__init__", "__setstate__", "__setattr__", "__setitem__", "append", "extend",
                 "__hash__", "__eq__", "__missing__", "__getattr__", "__array_finalize__"]
# packages pip installs with torch (its Requires-Dist), numpy, and the tools every Python install carries
PACKAGES = ["torch", "torchgen", "functorch", "caffe2", "numpy", "filelock", "typing_extensions", "sympy", "mpmath",
            "networkx", "jinja2", "markupsafe", "fsspec", "triton", "nvidia", "setuptools", "pkg_resources",
            "_distutils_hack", "pip"]


def resolve(dotted):
    parts = dotted.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except Exception:
            continue
        try:
            for p in parts[i:]:
                obj = getattr(obj, p)
        except AttributeError:
            return None
        return obj
    return None


def fingerprint(fn, where):
    if fn is None:
        return "none"
    raw = inspect.unwrap(getattr(fn, "__func__", fn)) if callable(fn) or hasattr(fn, "__func__") else fn
    code = getattr(raw, "__code__", None)
    if code is None:
        return "c:" + where
    try:
        src = inspect.getsource(raw)
    except (OSError, TypeError):
        src = code.co_code.hex()
    return "py:%s:%s" % (where, hashlib.sha256(src.encode()).hexdigest()[:16])


def class_methods(cls):
    out = {}
    for name in CLASS_METHODS:
        for base in cls.__mro__:
            if name in base.__dict__:
                if base is object:
                    break
                out[name] = fingerprint(base.__dict__[name], f"{base.__module__}.{base.__qualname__}.{name}")
                break
    meta = type(cls)
    if meta is not type:
        for base in meta.__mro__:
            if "__call__" in base.__dict__ and base is not type:
                out["metaclass.__call__"] = fingerprint(base.__dict__["__call__"], f"{base.__module__}.{base.__qualname__}.__call__")
                break
    return out


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../libs/scanner/data/harmless.json")
    import warnings
    warnings.filterwarnings("ignore")
    entries = json.load(open(path))["entries"]
    import numpy
    import torch
    reviewed = {}
    for e in entries:
        obj = resolve(e["global"])
        if obj is None:
            continue
        if e["kind"] == "constant":
            reviewed[e["global"]] = {"value": repr(obj)}
        elif inspect.isclass(obj):
            reviewed[e["global"]] = class_methods(obj)
        else:
            where = f"{getattr(obj, '__module__', None)}.{getattr(obj, '__qualname__', e['global'])}"
            reviewed[e["global"]] = {"call": fingerprint(obj, where)}
        # the name torch's add_safe_globals gives the object; where it differs, a recipe names it explicitly
        natural = f"{getattr(obj, '__module__', None)}.{getattr(obj, '__qualname__', None)}"
        if natural != e["global"]:
            reviewed[e["global"]]["name"] = natural
    json.dump({
        "python": "%d.%d.%d" % sys.version_info[:3],
        "numpy": numpy.__version__,
        "torch": torch.__version__,
        "stdlib": sorted(sys.stdlib_module_names),
        "packages": PACKAGES,
        "reviewed": reviewed,
    }, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
