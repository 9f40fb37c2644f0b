"""
Runs Brine's advice against real torch, as a user would: reads [{"id", "file", "mode", ...}] as JSON on stdin, runs
each item in the current folder (where the files are) and prints [{"id", "outcome", "detail", "marker"}] as JSON.

modes
  recipe    exec(code) — a recipe or an ifTrusted block as printed, with `model`/`optimizer` standing for the user's
  default   torch.load(file, weights_only=True): what this torch does on its own (the label)
  unsafe    torch.load(file, weights_only=False), in a child process: does the file's payload run?
  allow     with torch.serialization.safe_globals([the named globals]): torch.load(file, weights_only=True), in a
            child process: would allowing those globals (what a denylist-based recipe printed) run the payload?

`marker` is whether any file starting with item["marker"] exists afterwards (the payload's proof); markers are
removed before each item. Child processes run to exit, so payloads registered with atexit are seen too.
"""

import glob
import importlib
import json
import os
import subprocess
import sys
import traceback
import warnings

warnings.filterwarnings("ignore")


class Stub:
    """the user's model or optimizer: takes a non-empty state dict"""

    def __init__(self):
        self.loaded = None

    def load_state_dict(self, state_dict):
        if not isinstance(state_dict, dict) or not state_dict:
            raise TypeError(f"load_state_dict got {type(state_dict).__name__}, not a non-empty dict")
        self.loaded = state_dict

    def eval(self):
        return self


def resolve(dotted):
    parts = dotted.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for p in parts[i:]:
            obj = getattr(obj, p)
        return obj
    raise ImportError(dotted)


CHILD = r"""
import importlib, sys, warnings
warnings.filterwarnings("ignore")
import torch
mode, path, names = sys.argv[1], sys.argv[2], sys.argv[3:]
def resolve(dotted):
    parts = dotted.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for p in parts[i:]:
            obj = getattr(obj, p)
        return obj
    raise ImportError(dotted)
if mode == "unsafe":
    torch.load(path, weights_only=False, map_location="cpu")
else:
    # each name: module.name to import, or module.name=as.written when torch checks the name as the file spells it
    pairs = [(resolve(n.split("=")[0]), n.split("=")[-1]) for n in names]
    with torch.serialization.safe_globals(pairs):
        torch.load(path, weights_only=True, map_location="cpu")
"""


def markers(prefix):
    return glob.glob(prefix + "*") if prefix else []


def clear(prefix):
    for p in markers(prefix):
        os.remove(p)


def run(item):
    mode = item["mode"]
    if mode == "recipe":
        exec(compile(item["code"], item["id"], "exec"), {"model": Stub(), "optimizer": Stub()})
        return ""
    if mode == "default":
        import torch

        torch.load(item["file"], weights_only=True, map_location="cpu")
        return ""
    child = subprocess.run(
        [sys.executable, "-c", CHILD, mode, item["file"], *item.get("globals", [])],
        capture_output=True, text=True, timeout=120,
    )
    if child.returncode != 0:
        raise RuntimeError(child.stderr.strip().splitlines()[-1] if child.stderr.strip() else f"exit {child.returncode}")
    return ""


results = []
os.makedirs("/tmp/brine-advice", exist_ok=True)
for item in json.load(sys.stdin):
    prefix = item.get("marker")
    clear(prefix)
    try:
        detail = run(item)
        outcome = "ok"
    except ModuleNotFoundError as e:
        outcome, detail = ("skipped", f"{e.name} is not installed") if e.name in ("safetensors", "onnxruntime") else ("error", traceback.format_exc(limit=3))
    except Exception:
        outcome, detail = "error", traceback.format_exc(limit=3)
    found = bool(markers(prefix))
    clear(prefix)
    results.append({"id": item["id"], "outcome": outcome, "detail": detail[-2000:], "marker": found})
print(json.dumps(results))
