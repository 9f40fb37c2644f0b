"""
Loads checkpoints from a running registry with the Python client, as a user would: reads [{"ref", "trust",
"marker"}] as JSON on stdin (BRINE_URL and BRINE_TOKEN name the registry; the client package is on PYTHONPATH) and
prints [{"ref", "outcome": "loaded" | "not-safe" | "error", "detail", "marker"}] as JSON. `trust` names classes of
advice_user_code to pass as trust=[...]; `marker` is a payload's file, removed before and looked for after.
"""

import glob
import json
import os
import sys
import tempfile
import traceback
import warnings

warnings.filterwarnings("ignore")
import brine  # noqa: E402

client = brine.Client(cache_dir=tempfile.mkdtemp(prefix="brine-cache-"))
results = []
for item in json.load(sys.stdin):
    prefix = item.get("marker")
    for p in glob.glob(prefix + "*") if prefix else []:
        os.remove(p)
    trust = None
    if item.get("trust"):
        import advice_user_code

        trust = [getattr(advice_user_code, n) for n in item["trust"]]
    try:
        client.load(item["ref"], trust=trust)
        outcome, detail = "loaded", ""
    except brine.NotSafe as e:
        outcome, detail = "not-safe", str(e)
    except Exception:
        outcome, detail = "error", traceback.format_exc(limit=4)
    found = bool(glob.glob(prefix + "*")) if prefix else False
    results.append({"ref": item["ref"], "outcome": outcome, "detail": detail[-1500:], "marker": found})
print(json.dumps(results))
