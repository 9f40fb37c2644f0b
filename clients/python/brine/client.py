"""The Brine client: push, pull and load checkpoints (standard library only; torch for push of objects and load)."""

import hashlib
import importlib
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from . import _api, _vetted
from .errors import (
    AuthError,
    BadRequest,
    BrineError,
    ChecksumMismatch,
    Conflict,
    NotFound,
    NotSafe,
    TooLarge,
    Unavailable,
)

PathLike = Union[str, os.PathLike]

# the torch versions Brine models (generated from the scanner), newest first, with the first release each describes
MODELED = tuple((v, tuple(int(x) for x in v.split("."))) for v in reversed(_vetted.TORCH_VERSIONS))
CHUNK = 1 << 20


def modeled_version(torch_version: str) -> str:
    """The version of Brine's reports that describes an installed torch: the newest modeled one not after it."""
    parts = [int(p) for p in torch_version.split("+")[0].split(".")[:2] if p.isdigit()]
    mine = tuple(parts + [0] * (2 - len(parts)))
    for name, first in MODELED:
        if mine >= first:
            return name
    return "1.13"


def _quote(s: str) -> str:
    return urllib.parse.quote(s, safe="")


def parse_ref(ref: str) -> Tuple[str, Optional[str]]:
    """"name[:version|:tag]" → (name, version or tag or None)"""
    name, sep, rest = ref.partition(":")
    if not name:
        raise BadRequest(f'a reference is "name[:version|:tag]", got {ref!r}')
    return name, (rest if sep and rest else None)


# a 503 (or 429) is tried again after its Retry-After (1 s when it sends none, at most RETRY_MAX_WAIT s), at most
# RETRIES times; then Unavailable
RETRIES = 3
RETRY_MAX_WAIT = 30.0


class _Bar:
    """Progress on stderr: tqdm's bar when tqdm is importable, else one line redrawn in place."""

    def __init__(self, total: int, label: str, show: bool):
        self.total, self.label, self.show, self.done, self.last = total, label, show, 0, 0.0
        self.tqdm = None
        if show:
            try:
                from tqdm import tqdm  # optional: a nicer bar, the same information
            except ImportError:
                pass
            else:
                self.tqdm = tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr)

    def update(self, n: int) -> None:
        self.done += n
        if not self.show:
            return
        if self.tqdm is not None:
            self.tqdm.update(n)
            return
        now = time.monotonic()
        if now - self.last > 0.2 or self.done >= self.total:
            self.last = now
            pct = 100 * self.done / self.total if self.total else 100
            sys.stderr.write(f"\r{self.label} {self.done / 1e6:8.1f} / {self.total / 1e6:.1f} MB {pct:5.1f}%")
            sys.stderr.flush()

    def close(self) -> None:
        if self.tqdm is not None:
            self.tqdm.close()
            self.tqdm = None
        elif self.show:
            sys.stderr.write("\n")
            self.show = False


class _Progress:
    """A file object whose reads report progress on a terminal (stderr); rewind() sends it again from the start."""

    def __init__(self, f, size: int, label: str, show: bool):
        self.f, self.size, self.label, self.show = f, size, label, show
        self.bar = _Bar(size, label, show)

    def read(self, n: int = -1) -> bytes:
        b = self.f.read(n if n and n > 0 else CHUNK)
        self.bar.update(len(b))
        if not b or self.bar.done >= self.size:
            self.bar.close()
        return b

    def rewind(self) -> None:
        self.bar.close()
        self.f.seek(0)
        self.bar = _Bar(self.size, self.label, self.show)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


# the most versions one GET /checkpoints answers in `matches` (the registry's cap)
_MAX_MATCHES = 500


class Client:
    """
    A connection to a Brine registry. `url` and `token` default to BRINE_URL (http://127.0.0.1:3000) and BRINE_TOKEN,
    as for the `brine` command. Downloads are cached under `cache_dir` (default ~/.cache/brine), keyed by SHA-256.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        token: Optional[str] = None,
        cache_dir: Optional[PathLike] = None,
        timeout: float = 60.0,
        progress: Optional[bool] = None,
    ):
        self.url = (url or os.environ.get("BRINE_URL") or "http://127.0.0.1:3000").rstrip("/")
        self.token = os.environ.get("BRINE_TOKEN") if token is None else token
        self.cache_dir = Path(cache_dir or os.environ.get("BRINE_CACHE") or Path.home() / ".cache" / "brine")
        self.timeout = timeout
        self.progress = sys.stderr.isatty() if progress is None else progress

    # ---- HTTP ----

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: Optional[Dict[str, str]] = None,
        json_body: Any = None,
        stream: bool = False,
    ):
        if not self.token:
            raise AuthError("no token: pass token= or set BRINE_TOKEN (the registry printed an admin token on its first start)")
        h = {"authorization": f"Bearer {self.token}", **(headers or {})}
        data = body
        if json_body is not None:
            data = json.dumps(json_body).encode()
            h["content-type"] = "application/json"
        attempt = 0
        while True:
            req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
            try:
                res = urllib.request.urlopen(req, timeout=self.timeout)
                break
            except urllib.error.HTTPError as e:
                wait = _retry_wait(e.code, e.headers.get("retry-after"), attempt)
                raw = e.read()
                if wait is None:
                    raise self._error(e.code, raw) from None
                if self.progress:
                    sys.stderr.write(f"the registry is unavailable ({e.code}); trying again in {wait:.0f} s\n")
                time.sleep(wait)
                attempt += 1
                if hasattr(data, "rewind"):
                    data.rewind()  # a file being uploaded is sent again from its start
            except (urllib.error.URLError, OSError) as e:
                reason = getattr(e, "reason", e)
                raise Unavailable(f"cannot reach the registry at {self.url}: {reason}") from None
        if stream:
            return res
        with res:
            raw = res.read()
        return json.loads(raw) if raw else None

    @staticmethod
    def _error(status: int, raw: bytes) -> BrineError:
        try:
            body = json.loads(raw)
            message = body.get("message") or body.get("error") or str(status)
        except ValueError:
            body, message = {}, raw.decode("utf-8", "replace")[:300] or str(status)
        if isinstance(message, list):
            message = "; ".join(message)
        if status == 403 and "not known to be safe" in message:
            return NotSafe(message, status, body)
        cls = {400: BadRequest, 401: AuthError, 403: AuthError, 404: NotFound, 409: Conflict, 413: TooLarge}.get(status)
        if cls is None:
            cls = Unavailable if status >= 500 else BrineError
        return cls(message, status, body)

    def _path(self, route: str, **params: str) -> str:
        _method, template, _scope = _api.ROUTES[route]
        for k, v in params.items():
            template = template.replace("{" + k + "}", _quote(v))
        return template

    # ---- reading ----

    def version(self, ref: str) -> "_api.Version":
        """A version (or the version a tag points at): its sha256, metrics, tags and scan summary."""
        name, x = parse_ref(ref)
        if x is None:
            return self._request("GET", self._path("getTag", name=name, tag="latest-safe"))
        try:
            return self._request("GET", self._path("getVersion", name=name, version=x))
        except NotFound:
            return self._request("GET", self._path("getTag", name=name, tag=x))

    def report(self, ref: str) -> Dict[str, Any]:
        """The full scan report of a version (what `brine scan --json` prints for one file)."""
        v = self.version(ref)
        return self._request("GET", self._path("report", name=v["name"], version=v["version"]))

    def diff(self, name: str, from_ref: str, to_ref: str) -> "_api.VersionDiff":
        """
        What changed from one scanned version to another: tensors added, removed, reshaped and with new values,
        parameters, imports, findings, verdicts. Either may be a version or a tag (diff("resnet", "production", "v7")).
        """
        a = self.version(f"{name}:{from_ref}")["version"]
        b = self.version(f"{name}:{to_ref}")["version"]
        query = "?" + urllib.parse.urlencode({"from": a, "to": b})
        return self._request("GET", self._path("diff", name=name) + query)

    def checkpoints(self, query: Optional[str] = None, verdict: Optional[str] = None, limit: int = 1000) -> List["_api.CheckpointSummary"]:
        """The checkpoints (names containing `query`; with a version of that `verdict`), at most `limit`."""
        out: List[Any] = []
        after: Optional[str] = None
        while len(out) < limit:
            params = {"limit": str(min(500, limit - len(out)))}
            if query:
                params["q"] = query
            if verdict:
                params["verdict"] = verdict
            if after:
                params["after"] = after
            page = self._request("GET", self._path("listCheckpoints") + "?" + urllib.parse.urlencode(params))
            out.extend(page["items"])
            after = page.get("next")
            if not after:
                break
        return out

    def versions(
        self,
        name: str,
        parent: Optional[str] = None,
        git_commit: Optional[str] = None,
        dataset: Optional[str] = None,
        run_url: Optional[str] = None,
        sort: str = "created",
        order: str = "desc",
        limit: int = 1000,
    ) -> List["_api.Version"]:
        """
        A checkpoint's versions, newest first (sort="version", "size" or "metrics.val_loss"; order="asc"), at most
        `limit`; parent, git_commit, dataset and run_url keep only the versions with that lineage.
        """
        out: List[Any] = []
        offset = 0
        filters = {"parent": parent, "gitCommit": git_commit, "dataset": dataset, "runUrl": run_url}
        while len(out) < limit:
            params = {k: v for k, v in filters.items() if v is not None}
            params.update(sort=sort, order=order, limit=str(min(500, limit - len(out))), offset=str(offset))
            page = self._request("GET", self._path("getCheckpoint", name=name) + "?" + urllib.parse.urlencode(params))
            out.extend(page["versions"])
            if page.get("next") is None:
                break
            offset = page["next"]
        return out

    def search(
        self,
        query: Optional[str] = None,
        verdict: Optional[str] = None,
        parent: Optional[str] = None,
        git_commit: Optional[str] = None,
        dataset: Optional[str] = None,
        run_url: Optional[str] = None,
        limit: int = 1000,
    ) -> List["_api.Version"]:
        """
        Versions across checkpoints: of the checkpoints whose name contains `query` (all when None), the versions
        with the lineage given (parent, git_commit, dataset, run_url, filtered by the registry; git_commit may be a
        short SHA, 7 to 64 hex digits, matched as a prefix) and the `verdict` given ("safe", "suspicious",
        "dangerous", "unknown"; "pending" for versions not scanned yet), at most `limit`. With a lineage filter it is
        one request (`GET /checkpoints?gitCommit=…`, newest first; another per 500 checkpoints); without one, one
        request per checkpoint (newest first within each).
        """
        lineage = {"parent": parent, "gitCommit": git_commit, "dataset": dataset, "runUrl": run_url}
        lineage = {k: v for k, v in lineage.items() if v is not None}

        def wanted(v: Any) -> bool:
            state = v["scan"]["verdict"] if v["scan"]["status"] in ("done", "failed") else "pending"
            return verdict is None or state == verdict

        out: List[Any] = []
        if not lineage:
            for c in self.checkpoints(query=query):
                for v in self.versions(c["name"], limit=limit):
                    if wanted(v):
                        out.append(v)
                        if len(out) >= limit:
                            return out
            return out
        after: Optional[str] = None
        while True:
            params = dict(lineage, limit="500")
            if query:
                params["q"] = query
            if after:
                params["after"] = after
            page = self._request("GET", self._path("listCheckpoints") + "?" + urllib.parse.urlencode(params))
            matches = page["matches"] or []
            if len(matches) >= _MAX_MATCHES:
                # the registry answers at most 500 matches a page: ask each checkpoint of this page for the rest
                matches = [
                    v
                    for c in page["items"]
                    for v in self.versions(
                        c["name"], parent=parent, git_commit=git_commit, dataset=dataset, run_url=run_url, limit=limit
                    )
                ]
            for v in matches:
                if wanted(v):
                    out.append(v)
                    if len(out) >= limit:
                        return out
            after = page.get("next")
            if not after:
                return out

    def card(self, ref: str) -> "_api.Card":
        """The model card of a checkpoint ("name") or of one version ("name:version"): markdown, html, updatedAt."""
        name, v = parse_ref(ref)
        if v is None:
            return self._request("GET", self._path("getCheckpointCard", name=name))
        return self._request("GET", self._path("getVersionCard", name=name, version=v))

    def set_card(self, ref: str, markdown: str) -> "_api.Card":
        """Writes the model card of a checkpoint ("name") or of one version ("name:version"); markdown, at most 64 KiB."""
        name, v = parse_ref(ref)
        if not isinstance(markdown, str):
            raise BadRequest(f"a card is markdown text, not {type(markdown).__name__}")
        if v is None:
            return self._request("PUT", self._path("setCheckpointCard", name=name), json_body={"markdown": markdown})
        return self._request(
            "PUT", self._path("setVersionCard", name=name, version=v), json_body={"markdown": markdown}
        )

    def wait(self, name: str, version: str, timeout: float = 600.0) -> "_api.Version":
        """Waits until the version's scan has finished, and returns the version."""
        deadline = time.monotonic() + timeout
        while True:
            v = self._request("GET", self._path("getVersion", name=name, version=version))
            if v["scan"]["status"] in ("done", "failed"):
                return v
            if time.monotonic() > deadline:
                raise Unavailable(f"no verdict for {name}:{version} after {timeout:.0f} s (scan {v['scan']['status']})")
            time.sleep(0.5)

    # ---- writing ----

    def push(
        self,
        obj_or_path: Any,
        name: str,
        version: str,
        metrics: Optional[Dict[str, float]] = None,
        metadata: Optional[Dict[str, Any]] = None,
        wait: bool = True,
        timeout: float = 600.0,
        lineage: Optional[Dict[str, str]] = None,
        full_model: bool = False,
        parent: Optional[str] = None,
        git_commit: Optional[str] = None,
        run_url: Optional[str] = None,
        dataset: Optional[str] = None,
    ) -> "_api.Version":
        """
        Lineage: parent="epoch-2" (a version of this checkpoint, or "other:version"), git_commit="3f2a…" (7 to 64 hex
        digits), run_url="https://…", dataset="…" — or the same as lineage={"parent": …, "git_commit": …}.
        Uploads a version. A path (str or PathLike) uploads that file, and must be one: a path that is not a file is
        refused (BadRequest), never pickled as a string. Anything else (a state_dict, a tensor, a checkpoint dict)
        is written with torch.save to a temporary file first. An nn.Module is refused: push model.state_dict(), or
        pass full_model=True to pickle the module whole (its file imports your model's code: never `safe`, and
        loadable only with weights_only=False). Streams the file with its SHA-256; returns the version and, with
        `wait` (the default), waits for its verdict. The same bytes again record new metrics.
        """
        given = {"parent": parent, "git_commit": git_commit, "run_url": run_url, "dataset": dataset}
        for key, value in given.items():
            if value is None:
                continue
            if lineage and key in lineage and lineage[key] != value:
                raise BadRequest(f"{key} is given twice, as {key}= and in lineage=, with different values")
            lineage = {**(lineage or {}), key: value}
        if isinstance(obj_or_path, (str, os.PathLike)):
            path = Path(obj_or_path)
            if not path.is_file():
                why = "is a folder" if path.is_dir() else "is not a regular file" if path.exists() else "does not exist"
                raise BadRequest(
                    f"{str(obj_or_path)!r} {why}: push takes the path of a checkpoint file, or the object to save "
                    "(model.state_dict(), a tensor, a checkpoint dict); nothing was uploaded"
                )
            return self._push_file(path, name, version, metrics, metadata, wait, timeout, lineage=lineage)
        import torch  # only for objects

        if isinstance(obj_or_path, torch.nn.Module) and not full_model:
            raise BadRequest(
                f"this is a whole {type(obj_or_path).__name__} module: push model.state_dict() (brine.load gives it "
                "back with weights_only=True, and the registry can prove it safe), or pass full_model=True to pickle "
                "the module whole — its file then imports your model's code, is never safe, and loads only with "
                "weights_only=False, trusting the file completely; nothing was uploaded"
            )

        with tempfile.TemporaryDirectory(prefix="brine-") as d:
            path = Path(d) / f"{name}-{version}.pt"
            torch.save(obj_or_path, path)
            return self._push_file(
                path, name, version, metrics, metadata, wait, timeout, f"torch {torch.__version__}", lineage=lineage
            )

    def _push_file(self, path, name, version, metrics, metadata, wait, timeout, framework=None, lineage=None):
        size = path.stat().st_size
        sha = _sha256(path)
        headers = {
            "content-type": "application/octet-stream",
            "content-length": str(size),
            "x-checksum-sha256": sha,
            "x-brine-filename": _quote(path.name),
        }
        if framework:
            headers["x-brine-framework-version"] = framework
        if metrics:
            headers["x-brine-metrics"] = json.dumps(_numbers(metrics))
        if metadata:
            headers["x-brine-metadata"] = json.dumps(metadata)
        for key, value in (lineage or {}).items():
            if key not in ("parent", "git_commit", "run_url", "dataset"):
                raise BadRequest(f"lineage takes parent, git_commit, run_url and dataset, not {key!r}")
            headers["x-brine-" + key.replace("_", "-")] = str(value)
        with open(path, "rb") as f:
            body = _Progress(f, size, f"uploading {path.name}", self.progress)
            v = self._request("PUT", self._path("upload", name=name, version=version), body=body, headers=headers)
        if v["sha256"] != sha:
            raise ChecksumMismatch(f"the registry recorded {v['sha256']}, the file is {sha}")
        return self.wait(name, version, timeout) if wait else v

    def set_best_rule(self, name: str, metric: str, mode: str = "min") -> Dict[str, Any]:
        """The rule that moves the `best` tag: the safe version with the lowest (min) or highest (max) metric."""
        return self._request("PUT", self._path("setBestRule", name=name), json_body={"metric": metric, "mode": mode})

    # ---- pulling and loading ----

    def pull(self, ref: str, dest: Optional[PathLike] = None, acknowledge_risk: bool = False) -> Path:
        """
        Downloads "name[:version|:tag]" (no version or tag: `latest-safe`) into the cache, verifies its SHA-256
        before the file appears, and returns its path (or copies it to `dest`). A version whose verdict is not `safe`
        is refused with NotSafe unless acknowledge_risk=True.
        """
        v = self.version(ref)
        verdict = v["scan"]["verdict"]
        if verdict != "safe" and not acknowledge_risk:
            raise NotSafe(
                f"{v['name']}:{v['version']} is not known to be safe (verdict {verdict or v['scan']['status']}): "
                f"{v['scan']['summary'] or ''} Pass acknowledge_risk=True to download it anyway.",
                reason=v["scan"]["summary"] or "",
            )
        path = self._fetch(v, acknowledge_risk=verdict != "safe")
        if dest is None:
            return path
        dest = Path(dest)
        if dest.is_dir():
            dest = dest / (v["filename"] or f"{v['name']}-{v['version']}.pt")
        shutil.copyfile(path, dest)
        return dest

    def _fetch(self, v: "_api.Version", acknowledge_risk: bool, safetensors: bool = False) -> Path:
        """the version's file (or its safetensors twin) in the cache, fetched and verified first if need be"""
        if safetensors:
            twin = v.get("twin") or {}
            sha, size, suffix = twin["sha256"], twin["size"], ".safetensors"
        else:
            sha, size = v["sha256"], v["size"]
            suffix = Path(v["filename"] or "x.pt").suffix or ".pt"
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        cached = self.cache_dir / f"{sha}{suffix}"
        if cached.exists():
            if _sha256(cached) == sha:
                return cached
            cached.unlink()  # damaged: fetched again
        params = {**({"acknowledgeRisk": "true"} if acknowledge_risk else {}), **({"format": "safetensors"} if safetensors else {})}
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        path = self._path("file", name=v["name"], version=v["version"]) + query
        h = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(prefix=".part-", dir=self.cache_dir)
        try:
            with os.fdopen(fd, "wb") as out, self._request("GET", path, stream=True) as res:
                bar = _Bar(size, f"downloading {v['name']}:{v['version']}", self.progress)
                try:
                    for chunk in iter(lambda: res.read(CHUNK), b""):
                        h.update(chunk)
                        out.write(chunk)
                        bar.update(len(chunk))
                finally:
                    bar.close()
            if h.hexdigest() != sha:
                raise ChecksumMismatch(
                    f"{v['name']}:{v['version']}: received bytes with SHA-256 {h.hexdigest()}, the registry recorded {sha}; nothing was kept"
                )
            os.replace(tmp, cached)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return cached

    def _twin_ready(self, ref: str, timeout: float) -> Optional["_api.Version"]:
        """
        The version, once its safetensors twin can be read; None when it has none and will have none (not safe, not
        a torch zip state dict, the conversion skipped or failed). While the scan or the conversion is still running
        (right after a push) it waits, up to `timeout` seconds, then raises Unavailable saying so.
        """
        v = self.version(ref)
        deadline = time.monotonic() + timeout
        while True:
            scan, twin = v["scan"], v.get("twin") or {}
            if scan["status"] in ("pending", "scanning"):
                state = f"waiting for its scan ({scan['status']})"
            elif scan["verdict"] != "safe":
                return None
            elif twin.get("file"):
                return v
            elif twin.get("status") in ("pending", "converting"):
                state = twin["status"]
            else:
                return None
            if time.monotonic() >= deadline:
                raise Unavailable(_twin_wait_note(f"{v['name']}:{v['version']}", state, timeout))
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
            v = self._request("GET", self._path("getVersion", name=v["name"], version=v["version"]))

    def load(
        self,
        ref: str,
        map_location: Any = None,
        allow_torchscript: bool = False,
        state_dict: bool = False,
        trust: Optional[list] = None,
        twin_timeout: float = 120.0,
        **torch_load_kwargs: Any,
    ) -> Any:
        """
        Pulls "name[:version|:tag]" and loads it the way its scan report says is safe for the torch installed here:
        torch.load(..., weights_only=True) with the safe globals the report's recipe names for this version of torch,
        each of which must be on this client's own vetted list of harmless constructors (generated from Brine's; a
        report never adds to it), torch.jit.load for TorchScript only with allow_torchscript=True, and safetensors
        through the safetensors package. A file the installed torch would refuse raises NotSafe with the report's
        reason and fix.

        trust=[MyConfig, Net]: classes of your own code (or a third-party package) that the file needs and that Brine
        cannot vouch for; they are allowed only when the report's recipe names exactly them, and only by you.

        state_dict=True asks for the model's state dict: it is read from the version's safetensors twin when the
        registry has one (no unpickling at all; for a training checkpoint, its model state dict), tied weights
        restored, else from the file as above. A twin still being made (right after a push) is waited for, up to
        `twin_timeout` seconds; past that, Unavailable says it is still converting.
        """
        if state_dict:
            v = self._twin_ready(ref, twin_timeout)
            if v is not None:
                from .safetensors_file import load_file

                return load_file(self._fetch(v, acknowledge_risk=False, safetensors=True), device=str(map_location or "cpu"))
        import torch

        v = self.version(ref)
        label = f"{v['name']}:{v['version']}"
        report = self._request("GET", self._path("report", name=v["name"], version=v["version"]))
        target = modeled_version(torch.__version__)
        recipe = (report.get("howToLoad") or {}).get(target) or {}
        fmt, kind = report.get("format"), report.get("kind")
        if report.get("verdict") == "dangerous":
            raise NotSafe(f"{label} is dangerous: {report.get('summary', '')}", reason=report.get("summary", ""))
        trusted = {f"{getattr(o, '__module__', '')}.{getattr(o, '__qualname__', '')}": o for o in (trust or [])}
        if_trusted = recipe.get("ifTrusted")
        if recipe.get("loads"):
            names = list(recipe.get("safeGlobals") or [])
            trusted = {}
        elif if_trusted and trust:
            missing = [n for n in if_trusted["trust"] if n not in trusted]
            if missing:
                raise NotSafe(
                    f"{label} needs {', '.join(missing)} trusted as well: pass those classes in trust=[...] "
                    f"(you passed {', '.join(sorted(trusted)) or 'none'})",
                    reason="; ".join(recipe.get("notes") or []),
                )
            names = list(if_trusted["safeGlobals"])
            trusted = {n: o for n, o in trusted.items() if n in if_trusted["trust"]}
        else:
            why = "; ".join(recipe.get("notes") or []) or report.get("summary", "")
            fix = (report["weightsOnly"]["byVersion"].get(target) or {}).get("fix", "")
            if if_trusted:
                why += f" — if you trust that code, pass trust=[{', '.join(n.rpartition('.')[2] for n in if_trusted['trust'])}]"
            raise NotSafe(
                f"{label} cannot be loaded safely with torch {torch.__version__} (Brine's model of torch {target}): {why}",
                reason=why,
                fix=fix,
            )
        if fmt == "torchscript" and not allow_torchscript:
            raise NotSafe(
                f"{label} is TorchScript: torch.jit.load runs its code. Pass allow_torchscript=True if you trust it.",
                reason="TorchScript runs code",
            )
        # the recipe for this torch loads it: fetch it even when the verdict (about the registry's target torch) is not safe
        path = self._fetch(v, acknowledge_risk=report.get("verdict") != "safe")
        if fmt == "safetensors":
            from .safetensors_file import load_file  # the safetensors package when installed, else a pure reader

            return load_file(path, device=str(map_location or "cpu"))
        if fmt == "torchscript":
            return torch.jit.load(str(path), map_location=map_location)
        allowed = _allowed_globals(label, target, names, trusted)
        if allowed:
            with torch.serialization.safe_globals(allowed):
                return torch.load(path, map_location=map_location, weights_only=True, **torch_load_kwargs)
        return torch.load(path, map_location=map_location, weights_only=True, **torch_load_kwargs)


def _retry_wait(status: int, retry_after: Optional[str], attempt: int) -> Optional[float]:
    """seconds to wait before sending a refused request again, or None when it should not be sent again"""
    if status not in (503, 429) or attempt >= RETRIES:
        return None
    try:
        wait = float(retry_after) if retry_after is not None else 1.0
    except ValueError:
        wait = 1.0  # an HTTP date: Brine sends seconds
    return min(max(wait, 0.0), RETRY_MAX_WAIT)


def _twin_wait_note(label: str, status: str, timeout: float) -> str:
    return (
        f"{label}: its safetensors twin is still {status} (waited {timeout:.0f} s); try again in a moment, pass a "
        "longer twin_timeout, or pass state_dict=False to load the original file"
    )


def _numbers(metrics: Dict[str, Any]) -> Dict[str, float]:
    """metrics as JSON numbers: a 0-d tensor or numpy scalar becomes its value (metrics={"val_loss": loss} works)"""
    out: Dict[str, float] = {}
    for k, v in metrics.items():
        try:
            x = float(v.item() if hasattr(v, "item") else v)
        except (TypeError, ValueError):
            raise BadRequest(f"metric {k!r} must be a number, got {type(v).__name__}") from None
        if x != x or x in (float("inf"), float("-inf")):
            raise BadRequest(f"metric {k!r} must be a finite number, got {x}")
        out[k] = x
    return out


def _allowed_globals(label: str, target: str, names: list, trusted: Dict[str, Any]) -> list:
    """
    What safe_globals gets: each name the report's recipe asks for must be on this client's vetted list for the
    modeled torch (generated from Brine's, never taken from a report) or be one of the caller's trusted classes.
    Objects are passed with the name the file uses, (object, "module.Name"), as torch 2.4+ accepts.
    """
    out = []
    for n in names:
        if n in trusted:
            out.append((trusted[n], n))
        elif n in _vetted.VETTED.get(target, ()):
            out.append((_import(n), n))
        else:
            raise NotSafe(
                f"{label}: the report asks to allow {n}, which is not on this client's vetted list of harmless "
                f"constructors for torch {target}: refused (a report cannot add to that list)",
                reason=n,
            )
    return out


def _import(dotted: str) -> Any:
    """the object a dotted global names: the longest importable module, then attributes"""
    parts = dotted.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for part in parts[i:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(dotted)


_default: Optional[Client] = None


def _client() -> Client:
    global _default
    if _default is None:
        _default = Client()
    return _default


def push(obj_or_path: Any, name: str, version: str, **kw: Any) -> "_api.Version":
    """Client().push with BRINE_URL and BRINE_TOKEN."""
    return _client().push(obj_or_path, name, version, **kw)


def pull(ref: str, dest: Optional[PathLike] = None, acknowledge_risk: bool = False) -> Path:
    """Client().pull with BRINE_URL and BRINE_TOKEN."""
    return _client().pull(ref, dest, acknowledge_risk)


def load(ref: str, map_location: Any = None, **kw: Any) -> Any:  # trust=[...], allow_torchscript, state_dict
    """Client().load with BRINE_URL and BRINE_TOKEN."""
    return _client().load(ref, map_location, **kw)


def diff(name: str, from_ref: str, to_ref: str) -> "_api.VersionDiff":
    """Client().diff with BRINE_URL and BRINE_TOKEN."""
    return _client().diff(name, from_ref, to_ref)


def versions(name: str, **kw: Any) -> List["_api.Version"]:  # parent, git_commit, dataset, run_url, sort, order, limit
    """Client().versions with BRINE_URL and BRINE_TOKEN."""
    return _client().versions(name, **kw)


def checkpoints(query: Optional[str] = None, verdict: Optional[str] = None, limit: int = 1000) -> List["_api.CheckpointSummary"]:
    """Client().checkpoints with BRINE_URL and BRINE_TOKEN."""
    return _client().checkpoints(query, verdict, limit)


def search(**kw: Any) -> List["_api.Version"]:  # query, verdict, parent, git_commit, dataset, run_url, limit
    """Client().search with BRINE_URL and BRINE_TOKEN."""
    return _client().search(**kw)


def card(ref: str) -> "_api.Card":
    """Client().card with BRINE_URL and BRINE_TOKEN."""
    return _client().card(ref)


def set_card(ref: str, markdown: str) -> "_api.Card":
    """Client().set_card with BRINE_URL and BRINE_TOKEN."""
    return _client().set_card(ref, markdown)


def set_best_rule(name: str, metric: str, mode: str = "min") -> Dict[str, Any]:
    """Client().set_best_rule with BRINE_URL and BRINE_TOKEN."""
    return _client().set_best_rule(name, metric, mode)


def version(ref: str) -> "_api.Version":
    """Client().version with BRINE_URL and BRINE_TOKEN."""
    return _client().version(ref)


def report(ref: str) -> Dict[str, Any]:
    """Client().report with BRINE_URL and BRINE_TOKEN."""
    return _client().report(ref)
