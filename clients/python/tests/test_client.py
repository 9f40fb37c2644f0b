"""
The Python client against a real registry. BRINE_URL and BRINE_TOKEN name it; BRINE_TEST_PREFIX keeps this run's
checkpoint names apart from any other's. Run by `npm test` (test/python/client.test.ts) with Debian's torch.
"""

import argparse
import hashlib
import http.server
import json
import os
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

import torch
from torch import nn

import brine

PREFIX = os.environ.get("BRINE_TEST_PREFIX", "py")
MARKER = Path(tempfile.gettempdir()) / f"brine-pwned-{PREFIX}"


def name(suffix: str) -> str:
    return f"{PREFIX}-{suffix}"


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class Payload:
    """pickles to os.system(...): torch.save writes it without running it, torch.load(weights_only=False) would"""

    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


def same_state(a, b) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cache = tempfile.TemporaryDirectory(prefix="brine-cache-")
        cls.client = brine.Client(cache_dir=cls.cache.name)

    @classmethod
    def tearDownClass(cls):
        cls.cache.cleanup()

    def test_state_dict_round_trip(self):
        torch.manual_seed(1)
        model = Net()
        v = self.client.push(model.state_dict(), name("sd"), "1", metrics={"val_loss": torch.tensor(0.25)})
        self.assertEqual(v["scan"]["verdict"], "safe")
        self.assertEqual(v["metrics"], {"val_loss": 0.25})
        self.assertEqual(v["frameworkVersion"], f"torch {torch.__version__}")
        report = self.client.report(f"{name('sd')}:1")
        self.assertEqual(report["kind"], "state_dict")
        self.assertTrue(report["howToLoad"]["1.13"]["loads"])
        self.assertIn("weights_only=True", report["howToLoad"]["1.13"]["code"])
        sd = self.client.load(f"{name('sd')}:1")
        self.assertTrue(same_state(sd, model.state_dict()))
        fresh = Net()
        fresh.load_state_dict(sd)
        fresh.eval()
        x = torch.randn(3, 4)
        self.assertTrue(torch.equal(fresh(x), model.eval()(x)))

    def test_training_checkpoint_keeps_its_keys(self):
        model = Net()
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        model(torch.randn(2, 4)).sum().backward()
        opt.step()
        ckpt = {"epoch": 3, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(), "loss": 0.5}
        v = self.client.push(ckpt, name("ckpt"), "3")
        self.assertEqual(v["scan"]["verdict"], "safe")
        report = self.client.report(f"{name('ckpt')}:3")
        self.assertEqual(report["kind"], "checkpoint")
        self.assertIn('checkpoint["model_state_dict"]', report["howToLoad"]["2.14"]["code"])
        self.assertIn('checkpoint["optimizer_state_dict"]', report["howToLoad"]["2.14"]["code"])
        if brine.modeled_version(torch.__version__) == "1.13":
            # torch 1.13's weights-only unpickler cannot read Python floats (the loss, Adam's lr): refused, with why
            self.assertFalse(report["howToLoad"]["1.13"]["loads"])
            with self.assertRaises(brine.NotSafe) as e:
                self.client.load(f"{name('ckpt')}:3")
            self.assertIn("BINFLOAT", str(e.exception))
            with self.assertRaises(Exception):  # and torch agrees
                torch.load(self.client.pull(f"{name('ckpt')}:3"), weights_only=True)
        # without Python floats (the optimizer's state only), every modeled torch loads it
        ckpt = {"epoch": 3, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict()["state"]}
        self.client.push(ckpt, name("ckpt"), "4")
        got = self.client.load(f"{name('ckpt')}:4")
        self.assertEqual(got["epoch"], 3)
        self.assertTrue(same_state(got["model_state_dict"], model.state_dict()))
        self.assertIn("optimizer_state_dict", got)

    def test_state_dict_from_the_safetensors_twin(self):
        # a checkpoint torch 1.13 cannot load with weights_only (Python floats): its twin holds the model's weights
        model = Net()
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        ckpt = {"epoch": 5, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(), "loss": 0.25}
        ref = f"{name('ckpt')}:5"
        self.client.push(ckpt, name("ckpt"), "5")
        deadline = time.monotonic() + 60
        while (self.client.version(ref).get("twin") or {}).get("status") in (None, "pending", "converting"):
            self.assertLess(time.monotonic(), deadline, "the twin was not written within a minute")
            time.sleep(0.2)
        twin = self.client.version(ref)["twin"]
        self.assertEqual(twin["status"], "done", twin["error"])
        sd = self.client.load(ref, state_dict=True)
        self.assertTrue(same_state(sd, model.state_dict()))
        fresh = Net()
        fresh.load_state_dict(sd)
        fresh.eval()
        self.assertTrue((Path(self.cache.name) / f"{twin['sha256']}.safetensors").exists(), "read from the twin")
        # one more step of training: the diff names the tensors whose values moved, without reading them
        with torch.no_grad():
            model.fc2.bias.add_(1.0)
        six = self.client.push(
            {**ckpt, "model_state_dict": model.state_dict()}, name("ckpt"), "6", lineage={"parent": "5", "git_commit": "abc1234"}
        )
        self.assertEqual((six["lineage"]["parent"], six["lineage"]["gitCommit"]), ("5", "abc1234"))
        d = self.client.diff(name("ckpt"), "5", "6")
        self.assertEqual(d["verdict"], {"from": "safe", "to": "safe", "changed": False})
        self.assertEqual(d["tensors"]["bytesChanged"], ["model_state_dict.fc2.bias"])
        self.assertEqual(d["counts"]["unchanged"], 3)

    def test_full_model_is_refused_with_the_fix(self):
        v = self.client.push(Net(), name("full"), "1", full_model=True)
        self.assertNotEqual(v["scan"]["verdict"], "safe")
        with self.assertRaises(brine.NotSafe) as e:
            self.client.pull(f"{name('full')}:1")
        self.assertIn("acknowledge_risk=True", str(e.exception))
        with self.assertRaises(brine.NotSafe) as e:
            self.client.load(f"{name('full')}:1")
        self.assertIn("cannot be loaded safely", str(e.exception))
        self.assertIn("state_dict", str(e.exception) + e.exception.fix)
        # acknowledged, the bytes come down verified
        path = self.client.pull(f"{name('full')}:1", acknowledge_risk=True)
        self.assertEqual(hashlib.sha256(path.read_bytes()).hexdigest(), v["sha256"])

    def test_torchscript_needs_allow_torchscript(self):
        torch.manual_seed(2)
        model = Net().eval()
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "net.ts.pt"
            torch.jit.script(model).save(str(path))
            v = self.client.push(path, name("ts"), "1")
        self.assertEqual(v["scan"]["status"], "done")
        self.assertEqual(v["filename"], "net.ts.pt")
        report = self.client.report(f"{name('ts')}:1")
        self.assertEqual(report["format"], "torchscript")
        self.assertIn("torch.jit.load", report["howToLoad"]["1.13"]["code"])
        with self.assertRaises(brine.NotSafe) as e:
            self.client.load(f"{name('ts')}:1")
        self.assertIn("allow_torchscript=True", str(e.exception))
        loaded = self.client.load(f"{name('ts')}:1", allow_torchscript=True)
        x = torch.randn(2, 4)
        self.assertTrue(torch.equal(loaded(x), model(x)))

    def test_hostile_file_is_refused_and_never_runs(self):
        if MARKER.exists():
            MARKER.unlink()
        v = self.client.push({"weights": torch.zeros(2), "x": Payload()}, name("evil"), "1")
        self.assertEqual(v["scan"]["verdict"], "dangerous")
        with self.assertRaises(brine.NotSafe) as e:
            self.client.load(f"{name('evil')}:1")
        self.assertIn("dangerous", str(e.exception))
        self.assertIn("posix.system", e.exception.reason)
        with self.assertRaises(brine.NotSafe):
            self.client.pull(f"{name('evil')}:1")
        # latest-safe: there is no safe version of this checkpoint
        with self.assertRaises(brine.NotFound):
            self.client.pull(name("evil"))
        self.assertFalse(MARKER.exists())
        # what torch itself does with it, for the record: weights_only refuses it too
        path = self.client.pull(f"{name('evil')}:1", acknowledge_risk=True)
        with self.assertRaises(Exception):
            torch.load(path, weights_only=True)
        self.assertFalse(MARKER.exists())

    def test_globals_this_torch_cannot_allow(self):
        # argparse.Namespace: harmless, refused by every weights-only unpickler, allowable from torch 2.4
        ckpt = {"args": argparse.Namespace(lr=0.1), "model_state_dict": Net().state_dict()}
        self.client.push(ckpt, name("args"), "1")
        report = self.client.report(f"{name('args')}:1")
        r14, r113 = report["howToLoad"]["2.14"], report["howToLoad"]["1.13"]
        self.assertTrue(r14["loads"])
        self.assertEqual(r14["safeGlobals"], ["argparse.Namespace"])
        self.assertIn("from argparse import Namespace", r14["code"])
        self.assertIn("safe_globals([Namespace])", r14["code"])
        self.assertFalse(r113["loads"])
        if brine.modeled_version(torch.__version__) == "1.13":
            with self.assertRaises(brine.NotSafe) as e:
                self.client.load(f"{name('args')}:1")
            self.assertIn("argparse.Namespace", str(e.exception))
            self.assertIn("2.6", str(e.exception))

    def test_training_loop_loads_the_best_epoch(self):
        """the pattern in the README: push every epoch's state_dict with its metric, load name:best"""
        ckpt = name("loop")
        brine_client = self.client
        brine_client.set_best_rule(ckpt, "val_loss", "min")
        torch.manual_seed(0)
        x, y = torch.randn(64, 4), torch.randn(64, 1)
        vx, vy = torch.randn(16, 4), torch.randn(16, 1)
        model = Net()
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        losses = {}
        states = {}
        for epoch in range(4):
            model.train()
            opt.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            opt.step()
            model.eval()
            with torch.no_grad():
                val_loss = nn.functional.mse_loss(model(vx), vy).item()
            # make the best epoch not the last one
            if epoch == 3:
                val_loss += 10.0
            losses[epoch] = val_loss
            states[epoch] = {k: t.clone() for k, t in model.state_dict().items()}
            brine_client.push(model.state_dict(), ckpt, f"epoch-{epoch}", metrics={"val_loss": val_loss})
        best_epoch = min(losses, key=losses.get)
        self.assertNotEqual(best_epoch, 3)
        self.assertEqual(brine_client.version(f"{ckpt}:best")["version"], f"epoch-{best_epoch}")
        fresh = Net()
        fresh.load_state_dict(brine_client.load(f"{ckpt}:best"))
        fresh.eval()
        self.assertTrue(same_state(fresh.state_dict(), states[best_epoch]))

    def test_cache_is_checked_by_sha256(self):
        self.client.push({"w": torch.arange(10.0)}, name("cache"), "1")
        path = self.client.pull(f"{name('cache')}:1")
        good = path.read_bytes()
        self.assertEqual(path.name.split(".")[0], hashlib.sha256(good).hexdigest())
        path.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))  # damaged in the cache
        again = self.client.pull(f"{name('cache')}:1")
        self.assertEqual(again.read_bytes(), good)
        with tempfile.TemporaryDirectory() as d:
            copied = self.client.pull(f"{name('cache')}:1", dest=d)
            self.assertEqual(copied.read_bytes(), good)

    def test_push_a_file_and_conflicting_bytes(self):
        with tempfile.TemporaryDirectory() as d:
            a, b = Path(d) / "a.pt", Path(d) / "b.pt"
            torch.save({"w": torch.ones(3)}, a)
            torch.save({"w": torch.zeros(3)}, b)
            v = self.client.push(a, name("file"), "1", metadata={"dataset": "toy"}, wait=False)
            self.assertEqual(v["sha256"], hashlib.sha256(a.read_bytes()).hexdigest())
            with self.assertRaises(brine.Conflict) as e:
                self.client.push(b, name("file"), "1")
            self.assertEqual(e.exception.status, 409)
            # the same bytes again: new metrics recorded, no conflict
            again = self.client.push(a, name("file"), "1", metrics={"acc": 0.9})
            self.assertEqual(again["metrics"], {"acc": 0.9})

    def test_push_refuses_a_path_that_is_not_a_file(self):
        # a path that is not a file is a mistake, never an object to pickle: nothing is uploaded
        with tempfile.TemporaryDirectory() as d:
            for i, bad in enumerate(["nope.pt", Path(d) / "missing.pt", str(Path(d) / "missing.pt"), Path(d)]):
                with self.assertRaises(brine.BadRequest) as e:
                    self.client.push(bad, name("nofile"), str(i))
                self.assertIn(str(bad), str(e.exception))
                self.assertIn("nothing was uploaded", str(e.exception))
                with self.assertRaises(brine.NotFound):
                    self.client.version(f"{name('nofile')}:{i}")
        with self.assertRaises(brine.NotFound):
            self.client.pull(name("nofile"))  # no latest-safe was made up either

    def test_push_of_a_module_asks_for_its_state_dict(self):
        with self.assertRaises(brine.BadRequest) as e:
            self.client.push(Net(), name("module"), "1")
        self.assertIn("model.state_dict()", str(e.exception))
        self.assertIn("full_model=True", str(e.exception))
        with self.assertRaises(brine.NotFound):
            self.client.version(f"{name('module')}:1")
        # as asked: the state dict is what comes back from load
        model = Net()
        self.client.push(model.state_dict(), name("module"), "2")
        self.assertTrue(same_state(self.client.load(f"{name('module')}:2"), model.state_dict()))

    def test_state_dict_right_after_a_push_waits_for_the_twin(self):
        # a checkpoint torch 1.13 cannot load with weights_only (Python floats): right after the push its twin is
        # still being made; load(state_dict=True) waits for it instead of falling back to the pickle
        model = Net()
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        ckpt = {"epoch": 1, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(), "loss": 0.5}
        self.client.push(ckpt, name("fresh"), "1")
        sd = self.client.load(f"{name('fresh')}:1", state_dict=True)
        self.assertTrue(same_state(sd, model.state_dict()))
        twin = self.client.version(f"{name('fresh')}:1")["twin"]
        self.assertTrue((Path(self.cache.name) / f"{twin['sha256']}.safetensors").exists(), "read from the twin")
        # not willing to wait: it says the twin is still being made, with what to do
        self.client.push({**ckpt, "epoch": 2}, name("fresh"), "2")
        try:
            sd = self.client.load(f"{name('fresh')}:2", state_dict=True, twin_timeout=0)
        except brine.Unavailable as e:
            self.assertIn("still", str(e))
            self.assertIn("twin", str(e))
            self.assertIn("state_dict=False", str(e))
        else:  # the twin was already written
            self.assertTrue(same_state(sd, model.state_dict()))

    def test_errors_carry_the_registry_message(self):
        with self.assertRaises(brine.NotFound):
            self.client.version(f"{name('nothing')}:1")
        with self.assertRaises(brine.BadRequest) as e:
            self.client.push({"w": torch.ones(1)}, "../etc", "1")
        self.assertEqual(e.exception.status, 400)
        self.assertIn("name", str(e.exception))
        with self.assertRaises(brine.BadRequest):
            self.client.push({"w": torch.ones(1)}, name("bad"), "1", metrics={"loss": "low"})
        with self.assertRaises(brine.AuthError) as e:
            brine.Client(token="brine_not_a_token", cache_dir=self.cache.name).version(f"{name('sd')}:1")
        self.assertEqual(e.exception.status, 401)
        with self.assertRaises(brine.AuthError):
            brine.Client(token="", cache_dir=self.cache.name).version(f"{name('sd')}:1")
        with self.assertRaises(brine.Unavailable):
            brine.Client(url="http://127.0.0.1:9", cache_dir=self.cache.name).version(f"{name('sd')}:1")

    def test_lineage_on_push_listing_and_search(self):
        n = name("lineage")
        commit = "0123456789abcdef0123456789abcdef01234567"
        self.client.push({"w": torch.ones(2)}, n, "v1", git_commit=commit, dataset="toy@1", metrics={"loss": 0.5})
        self.client.push({"w": torch.zeros(2)}, n, "v2", parent="v1", lineage={"run_url": "https://ci.example/run/7"}, metrics={"loss": 0.25})
        other = name("lineage-child")
        self.client.push({"w": torch.ones(3)}, other, "1", parent=f"{n}:v2")
        v2 = self.client.version(f"{n}:v2")
        self.assertEqual(v2["lineage"]["parent"], "v1")
        self.assertEqual(v2["lineage"]["runUrl"], "https://ci.example/run/7")
        self.assertEqual([v["version"] for v in self.client.versions(n)], ["v2", "v1"])
        self.assertEqual([v["version"] for v in brine.versions(n, sort="metrics.loss", order="asc", limit=1)], ["v2"])
        self.assertEqual([v["version"] for v in self.client.versions(n, parent="v1")], ["v2"])
        self.assertEqual([v["version"] for v in self.client.versions(n, git_commit=commit)], ["v1"])
        found = brine.search(query=name("lineage"), git_commit=commit)
        self.assertEqual([(v["name"], v["version"]) for v in found], [(n, "v1")])
        children = brine.search(query=name("lineage"), parent=f"{n}:v2")
        self.assertEqual([(v["name"], v["version"]) for v in children], [(other, "1")])
        self.assertEqual(len(brine.search(query=name("lineage"), verdict="safe")), 3)
        self.assertEqual(brine.search(query=name("lineage"), verdict="dangerous"), [])
        self.assertIn(n, [c["name"] for c in brine.checkpoints(query=name("lineage"))])
        # a lineage search is one GET /checkpoints?gitCommit=… across every checkpoint, not one per checkpoint;
        # a short SHA (7 hex digits) finds the version pushed with the full one
        sent = []
        request = self.client._request

        def counting(method, path, *args, **kw):
            sent.append((method, path))
            return request(method, path, *args, **kw)

        self.client._request = counting
        try:
            short = self.client.search(git_commit=commit[:7])
            children = self.client.search(parent=f"{n}:v2", verdict="safe")
        finally:
            del self.client._request
        self.assertIn((n, "v1"), [(v["name"], v["version"]) for v in short])
        self.assertEqual([(v["name"], v["version"]) for v in children], [(other, "1")])
        self.assertEqual(len(sent), 2, sent)
        self.assertTrue(all(p.startswith("/checkpoints?") for _, p in sent), sent)
        self.assertIn("gitCommit=" + commit[:7], sent[0][1])
        with self.assertRaises(brine.BadRequest):
            self.client.search(git_commit=commit[:6])
        with self.assertRaises(brine.BadRequest):
            self.client.push({"w": torch.ones(1)}, n, "v3", git_commit="not-hex")
        with self.assertRaises(brine.BadRequest):
            self.client.push({"w": torch.ones(1)}, n, "v3", parent="v1", lineage={"parent": "v2"})

    def test_diff_takes_versions_and_tags(self):
        n = name("diff")
        self.client.push({"a": torch.ones(2), "b": torch.ones(3)}, n, "1")
        self.client.push({"a": torch.zeros(2), "c": torch.ones(4)}, n, "2")
        d = brine.diff(n, "1", "2")
        self.assertEqual((d["from"], d["to"]), ("1", "2"))
        self.assertEqual([t["name"] for t in d["tensors"]["added"]], ["c"])
        self.assertEqual([t["name"] for t in d["tensors"]["removed"]], ["b"])
        self.assertEqual(d["tensors"]["bytesChanged"], ["a"])
        by_tag = self.client.diff(n, "1", "latest")
        self.assertEqual(by_tag["to"], "2")
        with self.assertRaises(brine.NotFound):
            brine.diff(n, "1", "nope")

    def test_cards(self):
        n = name("card")
        self.client.push({"w": torch.ones(2)}, n, "1")
        self.assertIsNone(brine.card(n)["markdown"])
        c = brine.set_card(n, "# A model\n\nTrained on **toy** data.")
        self.assertIn("<strong>toy</strong>", c["html"])
        self.assertEqual(brine.card(n)["markdown"], "# A model\n\nTrained on **toy** data.")
        brine.set_card(f"{n}:1", "epoch 1")
        self.assertEqual(self.client.card(f"{n}:1")["markdown"], "epoch 1")
        with self.assertRaises(brine.BadRequest):
            brine.set_card(n, b"bytes")

    def test_progress_uses_tqdm_when_importable(self):
        calls = []

        class FakeTqdm:
            def __init__(self, total, **kw):
                calls.append(("new", total, kw.get("unit")))

            def update(self, n):
                calls.append(("update", n))

            def close(self):
                calls.append(("close",))

        module = type(sys)("tqdm")
        module.tqdm = FakeTqdm
        sys.modules["tqdm"] = module
        try:
            client = brine.Client(cache_dir=self.cache.name, progress=True)
            with tempfile.TemporaryDirectory() as d:
                f = Path(d) / "p.pt"
                torch.save({"w": torch.arange(1000.0)}, f)
                size = f.stat().st_size
                client.push(f, name("tqdm"), "1")
                client.pull(f"{name('tqdm')}:1", dest=d + "/copy.pt")
        finally:
            del sys.modules["tqdm"]
        bars = [c for c in calls if c[0] == "new"]
        self.assertEqual(bars, [("new", size, "B"), ("new", size, "B")], "one bar up, one down")
        self.assertEqual(sum(c[1] for c in calls if c[0] == "update"), 2 * size)
        self.assertEqual(len([c for c in calls if c[0] == "close"]), 2)


class WrongBytesServer(http.server.BaseHTTPRequestHandler):
    """a registry (or a proxy in front of one) that serves bytes other than those it recorded"""

    sha = hashlib.sha256(b"the recorded bytes").hexdigest()

    def do_GET(self):
        if self.path.endswith("/file"):
            body = b"other bytes"
        else:
            v = {"name": "m", "version": "1", "sha256": self.sha, "size": 11, "filename": "m.pt"}
            v["scan"] = {"status": "done", "verdict": "safe", "summary": "ok"}
            body = json.dumps(v).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class ChecksumTest(unittest.TestCase):
    def test_bytes_that_do_not_match_never_reach_the_cache(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), WrongBytesServer)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with tempfile.TemporaryDirectory() as cache:
                c = brine.Client(url=f"http://127.0.0.1:{server.server_port}", token="t", cache_dir=cache)
                with self.assertRaises(brine.ChecksumMismatch) as e:
                    c.pull("m:1")
                self.assertIn(WrongBytesServer.sha, str(e.exception))
                self.assertEqual(os.listdir(cache), [])
        finally:
            server.shutdown()
            server.server_close()


class UnitTest(unittest.TestCase):
    def test_allows_only_its_own_vetted_list(self):
        from brine.client import _allowed_globals

        self.assertEqual(
            _allowed_globals("x:1", "2.14", ["argparse.Namespace"], {}), [(argparse.Namespace, "argparse.Namespace")]
        )
        # whatever a report asks: code-execution primitives, and callables merely absent from gadget lists
        for dotted in ("os.system", "builtins.eval", "numpy.memmap", "_sqlite3.connect", "builtins.getattr",
                       "torch.serialization._open_zipfile_writer"):
            with self.assertRaises(brine.NotSafe):
                _allowed_globals("x:1", "2.14", [dotted], {})
        # torch 1.13 cannot allow globals at all
        with self.assertRaises(brine.NotSafe):
            _allowed_globals("x:1", "1.13", ["argparse.Namespace"], {})
        # the caller's own classes, by the caller only
        self.assertEqual(_allowed_globals("x:1", "2.14", ["mine.Net"], {"mine.Net": Net}), [(Net, "mine.Net")])

    def test_modeled_version(self):
        self.assertEqual(brine.modeled_version("1.13.1+cpu"), "1.13")
        self.assertEqual(brine.modeled_version("2.5.1"), "1.13")
        self.assertEqual(brine.modeled_version("2.6.0"), "2.6")
        self.assertEqual(brine.modeled_version("2.14.0+cu128"), "2.14")
        self.assertEqual(brine.modeled_version("3.0.0"), "2.14")

    def test_parse_ref(self):
        self.assertEqual(brine.parse_ref("resnet"), ("resnet", None))
        self.assertEqual(brine.parse_ref("resnet:best"), ("resnet", "best"))
        self.assertEqual(brine.parse_ref("resnet:v1"), ("resnet", "v1"))
        with self.assertRaises(brine.BadRequest):
            brine.parse_ref(":x")


if __name__ == "__main__":
    unittest.main()
