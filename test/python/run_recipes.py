"""
Runs load recipes from Brine's reports, as a user would paste them: reads [{"id", "code"}] as JSON on stdin, runs
each in the current folder (where the files are) with `model` and `optimizer` standing for the user's objects, and
prints [{"id", "outcome": "ok" | "error" | "skipped", "detail"}] as JSON.
"""

import json
import sys
import traceback


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


results = []
for item in json.load(sys.stdin):
    scope = {"model": Stub(), "optimizer": Stub()}
    try:
        exec(compile(item["code"], item["id"], "exec"), scope)
        results.append({"id": item["id"], "outcome": "ok", "detail": ""})
    except ModuleNotFoundError as e:
        if e.name in ("safetensors", "onnxruntime"):
            results.append({"id": item["id"], "outcome": "skipped", "detail": f"{e.name} is not installed"})
        else:
            results.append({"id": item["id"], "outcome": "error", "detail": traceback.format_exc()})
    except Exception:
        results.append({"id": item["id"], "outcome": "error", "detail": traceback.format_exc()})
print(json.dumps(results))
