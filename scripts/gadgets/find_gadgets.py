#!/usr/bin/env python3
"""A systematic pass over the Python standard library (and torch, when installed) for pickle gadgets.

    python3 scripts/gadgets/find_gadgets.py > out.json        # one interpreter; see update.sh for all of them

A pickle can call (REDUCE, NEWOBJ, INST, OBJ) any importable callable and reach methods through dotted names
(STACK_GLOBAL 'mod' 'Class.method'). This script reads the source of every module (it imports nothing it scans) and
builds a call graph per module: functions, classes and methods, with edges for calls to names defined in the same
module and for `self.method(...)` / `cls.method(...)` calls inside a class. A callable is a gadget when it reaches a
*sink* through that graph:

  code       exec, eval, compile, __import__, importlib.import_module, runpy, code.InteractiveInterpreter
  process    os.system/popen/exec*/spawn*/fork/kill, subprocess.*, pty.spawn, multiprocessing, asyncio subprocesses
  file-write open/io.open/os.open with a write mode (or a mode chosen by the caller), os.remove/rename/mkdir/...,
             shutil file operations, tempfile files
  network    socket.*, ssl wrapping, http.client/urllib.request/ftplib/smtplib/imaplib connections
  native     ctypes and _ctypes
  unpickle   pickle.load(s)/Unpickler, marshal.load(s), shelve, torch.load, numpy.load
A class is a gadget when calling it (__init__, __new__) or building it (__setstate__, __reduce_ex__ targets) reaches
a sink. Frozen modules (_frozen_importlib, _frozen_importlib_external) are read from the files they are frozen from;
modules written in C, which have no source to read, are classified by the C_MODULES table. Output: {"python": ..., "torch": ..., "gadgets": {"module.qualname": ["code", ...]}}.
"""
import ast
import json
import os
import pkgutil
import sys
import sysconfig

# module → sink kind, for calls spelled module.attr(...) (after resolving import aliases)
MODULE_SINKS = {
    "subprocess": "process",
    "pty": "process",
    "multiprocessing": "process",
    "socket": "network",
    "ssl": "network",
    "ctypes": "native",
    "_ctypes": "native",
    "runpy": "code",
    "marshal": None,  # only load/loads
    "pickle": None,
    "_pickle": None,
}
NAME_SINKS = {
    ("builtins", "exec"): "code",
    ("builtins", "eval"): "code",
    ("builtins", "compile"): "code",
    ("builtins", "__import__"): "code",
    ("builtins", "breakpoint"): "code",
    ("importlib", "import_module"): "code",
    ("importlib", "__import__"): "code",
    ("importlib.util", "module_from_spec"): "code",
    ("code", "InteractiveInterpreter"): "code",
    ("code", "InteractiveConsole"): "code",
    ("code", "interact"): "code",
    ("marshal", "load"): "unpickle",
    ("marshal", "loads"): "unpickle",
    ("pickle", "load"): "unpickle",
    ("pickle", "loads"): "unpickle",
    ("pickle", "Unpickler"): "unpickle",
    ("pickle", "_load"): "unpickle",
    ("pickle", "_loads"): "unpickle",
    ("_pickle", "load"): "unpickle",
    ("_pickle", "loads"): "unpickle",
    ("_pickle", "Unpickler"): "unpickle",
    ("shelve", "open"): "unpickle",
    ("torch", "load"): "unpickle",
    ("numpy", "load"): "unpickle",
    ("http.client", "HTTPConnection"): "network",
    ("http.client", "HTTPSConnection"): "network",
    ("urllib.request", "urlopen"): "network",
    ("urllib.request", "urlretrieve"): "network",
    ("ftplib", "FTP"): "network",
    ("smtplib", "SMTP"): "network",
    ("asyncio", "create_subprocess_exec"): "process",
    ("asyncio", "create_subprocess_shell"): "process",
    ("asyncio", "open_connection"): "network",
}
OS_PROCESS = {"system", "popen", "fork", "forkpty", "kill", "killpg", "startfile", "posix_spawn", "posix_spawnp"}
OS_FILE = {"remove", "unlink", "rmdir", "removedirs", "rename", "renames", "replace", "mkdir", "makedirs",
           "truncate", "ftruncate", "chmod", "chown", "lchown", "link", "symlink", "mkfifo", "mknod", "putenv",
           "unsetenv", "write", "pwrite", "writev", "sendfile", "utime", "setxattr", "removexattr"}
SHUTIL_FILE = {"copy", "copy2", "copyfile", "copyfileobj", "copytree", "move", "rmtree", "make_archive",
               "unpack_archive", "chown", "copymode", "copystat"}
TEMPFILE_FILE = {"mkstemp", "mkdtemp", "NamedTemporaryFile", "TemporaryFile", "SpooledTemporaryFile",
                 "TemporaryDirectory", "_mkstemp_inner"}
WRITE_MODE = set("wax+")


def open_mode_sink(call, mode_pos):
    """open(...) is a file-write sink unless its mode is a literal without w/a/x/+"""
    mode = None
    if len(call.args) > mode_pos:
        mode = call.args[mode_pos]
    for k in call.keywords:
        if k.arg == "mode":
            mode = k.value
        if k.arg is None:
            return "file-write"
    if mode is None:
        return None
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return "file-write" if WRITE_MODE & set(mode.value) else None
    return "file-write"


def dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return list(reversed(parts))
    return None


class Func:
    def __init__(self, qual, cls):
        self.qual = qual
        self.cls = cls  # qualname of the enclosing class, for self.method calls
        self.calls = []  # ("local", name) ("self", name) ("base", Class, name) ("super", name) ("ext", parts, openmode)


class ModuleGraph(ast.NodeVisitor):
    def __init__(self, modname, tree, is_package):
        self.mod = modname
        self.is_package = is_package
        self.aliases = {}  # local name → "module.attr" (module-level imports; from-imports are re-exports too)
        self.funcs = {}  # qualname → Func
        self.classes = {}  # qualname → {"bases": [dotted], "methods": {name: qualname}, "attrs": {name: dotted}}
        self.stack = []
        self.kinds = []
        self.visit(tree)

    def visit_Import(self, node):
        for a in node.names:
            if a.asname:
                self.aliases[a.asname] = a.name
            else:
                self.aliases[a.name.split(".")[0]] = a.name.split(".")[0]

    def visit_ImportFrom(self, node):
        if node.level:
            parts = self.mod.split(".")
            keep = len(parts) - node.level + (1 if self.is_package else 0)
            pkg = ".".join(parts[:keep])
            base = f"{pkg}.{node.module}" if node.module else pkg
        else:
            base = node.module or ""
        for a in node.names:
            if a.name != "*":
                self.aliases[a.asname or a.name] = f"{base}.{a.name}"

    def visit_Assign(self, node):
        # module-level `name = other.module.attr` aliases (`_open = io.open`)
        if not self.stack and isinstance(node.value, (ast.Name, ast.Attribute)):
            d = dotted(node.value)
            if d:
                for t in node.targets:
                    if isinstance(t, ast.Name) and t.id not in self.aliases:
                        full = self.resolve(d)
                        if full:
                            self.aliases[t.id] = ".".join(full)
        self.generic_visit(node)

    def enclosing_class(self):
        if self.kinds and self.kinds[-1] == "class":
            return ".".join(self.stack)
        return None

    def visit_FunctionDef(self, node):
        cls = self.enclosing_class()
        q = ".".join(self.stack + [node.name])
        self.funcs[q] = Func(q, cls)
        if cls:
            self.classes[cls]["methods"][node.name] = q
        self.stack.append(node.name)
        self.kinds.append("def")
        self.generic_visit(node)
        self.kinds.pop()
        self.stack.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        q = ".".join(self.stack + [node.name])
        self.classes[q] = {"bases": [".".join(d) for d in map(dotted, node.bases) if d], "methods": {}, "attrs": {}}
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, (ast.Name, ast.Attribute)):
                d = dotted(stmt.value)
                for t in stmt.targets:
                    if isinstance(t, ast.Name) and d:
                        self.classes[q]["attrs"][t.id] = self.resolve(d) or d
        self.stack.append(node.name)
        self.kinds.append("class")
        self.generic_visit(node)
        self.kinds.pop()
        self.stack.pop()

    def current(self):
        for i in range(len(self.kinds) - 1, -1, -1):
            if self.kinds[i] == "def":
                return self.funcs.get(".".join(self.stack[: i + 1]))
        return None

    def resolve(self, parts):
        head = parts[0]
        if head in self.aliases:
            return self.aliases[head].split(".") + parts[1:]
        if len(parts) == 1 and head in ("exec", "eval", "compile", "__import__", "open", "breakpoint"):
            return ["builtins", head]
        return None

    def visit_Call(self, node):
        f = self.current()
        if f is not None:
            self.record(f, node)
        self.generic_visit(node)

    def record(self, f, call):
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) and dotted(func.value.func) == ["super"]:
            f.calls.append(("super", func.attr))
            return
        parts = dotted(func)
        if parts is None:
            return
        if parts[0] in ("self", "cls") and len(parts) == 2:
            f.calls.append(("self", parts[1]))
            return
        if len(parts) == 2 and call.args and isinstance(call.args[0], ast.Name) and call.args[0].id == "self":
            f.calls.append(("base", parts[0], parts[1]))
        full = self.resolve(parts)
        if full is None:
            f.calls.append(("local", ".".join(parts)))
        else:
            f.calls.append(("ext", full, open_mode_sink(call, 1)))


def sink_of(mod, name, openmode):
    if (mod, name) in NAME_SINKS:
        return NAME_SINKS[(mod, name)]
    if (mod == "builtins" and name == "open") or (mod in ("io", "_io") and name == "open"):
        return openmode
    if mod == "os" and name == "open":
        return "file-write"
    if mod in ("os", "posix") and (name in OS_PROCESS or name.startswith(("exec", "spawn"))):
        return "process"
    if mod in ("os", "posix") and name in OS_FILE:
        return "file-write"
    if mod == "shutil" and name in SHUTIL_FILE:
        return "file-write"
    if mod == "tempfile" and name in TEMPFILE_FILE:
        return "file-write"
    if MODULE_SINKS.get(mod):
        return MODULE_SINKS[mod]
    top = mod.split(".")[0]
    if top in ("subprocess", "socket", "ctypes", "_ctypes", "multiprocessing", "pty"):
        return MODULE_SINKS.get(top)
    return None


ENTRY_METHODS = ("__new__", "__init__", "__setstate__", "__post_init__")


class Analysis:
    def __init__(self, graphs):
        self.graphs = graphs
        self.memo = {}

    def canonical(self, parts, depth=0):
        """follow re-exports: numpy.compat.pickle.load → pickle.load"""
        for _ in range(20):
            for i in range(len(parts) - 1, 0, -1):
                g = self.graphs.get(".".join(parts[:i]))
                if g and parts[i] in g.aliases and g.aliases[parts[i]] != ".".join(parts[: i + 1]):
                    parts = g.aliases[parts[i]].split(".") + parts[i + 1 :]
                    break
            else:
                return parts
        return parts

    def lookup_class(self, g, name):
        if name in g.classes:
            return g, name
        full = g.resolve(name.split("."))
        if full:
            full = self.canonical(full)
            for i in range(len(full) - 1, 0, -1):
                og = self.graphs.get(".".join(full[:i]))
                if og and ".".join(full[i:]) in og.classes:
                    return og, ".".join(full[i:])
        return None

    def mro(self, g, cls, depth=0):
        out = [(g, cls)]
        if depth > 20:
            return out
        for b in g.classes[cls]["bases"]:
            found = self.lookup_class(g, b)
            if found:
                for x in self.mro(found[0], found[1], depth + 1):
                    if x not in out:
                        out.append(x)
        return out

    def method(self, mro, name, start=0):
        for g, c in mro[start:]:
            q = g.classes[c]["methods"].get(name)
            if q:
                return ("func", g, q)
            a = g.classes[c]["attrs"].get(name)
            if a:
                return ("attr", a, g)
        return None

    def call_sinks(self, g, f, call, ctx, depth):
        kind = call[0]
        if kind == "local":
            name = call[1]
            scope = f.qual
            while scope:
                if f"{scope}.{name}" in g.funcs:
                    return self.func_sinks(g, f"{scope}.{name}", ctx, depth + 1)
                scope = scope.rpartition(".")[0]
            return self.name_sinks(g, name, depth + 1)
        if kind == "ext":
            parts = self.canonical(list(call[1]))
            mod, name = ".".join(parts[:-1]), parts[-1]
            k = sink_of(mod, name, call[2])
            if k:
                return {k}
            for i in range(len(parts) - 1, 0, -1):
                og = self.graphs.get(".".join(parts[:i]))
                if og:
                    return self.name_sinks(og, ".".join(parts[i:]), depth + 1)
            return set()
        if not ctx:
            return set()
        if kind == "self":
            m = self.method(ctx, call[1])
        elif kind == "super":
            here = next((i for i, (x, c) in enumerate(ctx) if x is g and c == f.cls), None)
            m = self.method(ctx, call[1], here + 1) if here is not None else None
        else:  # base: Class.method(self, ...) runs with the instance's class
            found = self.lookup_class(g, call[1])
            m = self.method(self.mro(*found), call[2]) if found else None
        if m is None:
            return set()
        if m[0] == "attr":
            a = m[1]
            k = sink_of(".".join(a[:-1]), a[-1], "file-write") if len(a) > 1 else None
            return {k} if k else set()
        return self.func_sinks(m[1], m[2], ctx, depth + 1)

    def func_sinks(self, g, qual, ctx, depth=0):
        f = g.funcs.get(qual)
        if f is None or depth > 60:
            return set()
        if ctx is None and f.cls:
            ctx = self.mro(g, f.cls)
        key = (g.mod, qual, tuple((x.mod, c) for x, c in ctx) if ctx else None)
        if key in self.memo:
            return self.memo[key]
        self.memo[key] = set()
        out = set()
        for call in f.calls:
            out |= self.call_sinks(g, f, call, ctx, depth)
        self.memo[key] = out
        return out

    def class_sinks(self, g, cls, depth=0):
        ctx = self.mro(g, cls)
        out = set()
        for name in ENTRY_METHODS:
            m = self.method(ctx, name)
            if m and m[0] == "func":
                out |= self.func_sinks(m[1], m[2], ctx, depth + 1)
        return out

    def name_sinks(self, g, name, depth=0):
        """what calling module.name reaches: a function, a class, a method, or a re-exported name"""
        if depth > 60:
            return set()
        if name in g.funcs and "." not in name:
            return self.func_sinks(g, name, None, depth)
        if name in g.classes:
            return self.class_sinks(g, name, depth)
        if "." in name:
            cls, meth = name.rsplit(".", 1)
            if cls in g.classes:
                m = self.method(self.mro(g, cls), meth)
                if m and m[0] == "func":
                    return self.func_sinks(m[1], m[2], None, depth + 1)
        if name.split(".")[0] in g.aliases:
            parts = self.canonical(g.aliases[name.split(".")[0]].split(".") + name.split(".")[1:])
            k = sink_of(".".join(parts[:-1]), parts[-1], None)
            if k:
                return {k}
            for i in range(len(parts) - 1, 0, -1):
                og = self.graphs.get(".".join(parts[:i]))
                if og and og is not g:
                    return self.name_sinks(og, ".".join(parts[i:]), depth + 1)
        return set()


def scan(graphs):
    a = Analysis(graphs)
    out = {}
    for g in graphs.values():
        names = {n for n in g.funcs if "." not in n} | set(g.classes) | set(g.aliases)
        for cls, c in g.classes.items():
            for m in c["methods"]:
                names.add(f"{cls}.{m}")
        for n in names:
            s = a.name_sinks(g, n)
            if s:
                out[f"{g.mod}.{n}"] = sorted(s)
    return out


SKIP = ("test", "tests", "idle_test", "testing")

# Frozen modules have no file of their own: their source ships beside the package they are frozen from.
FROZEN_SOURCES = {
    "_frozen_importlib": "importlib/_bootstrap.py",
    "_frozen_importlib_external": "importlib/_bootstrap_external.py",
}

# Modules written in C have no source to read: what calling into them can do, from CPython's documentation and
# Modules/*.c. A sink for the whole module, or {name: sink} where only some of its callables reach one. New modules
# of 3.13 and 3.14 (_interpreters, _interpqueues, _interpchannels, _remote_debugging) are here too.
C_MODULES = {
    "_interpreters": "code",  # 3.13+: create interpreters and run code in them
    "_xxsubinterpreters": "code",  # 3.12's name for it
    "_interpchannels": "code",
    "_interpqueues": "code",
    "_xxinterpchannels": "code",
    "_imp": "code",  # create_dynamic/exec_dynamic/exec_builtin load and run extension modules
    "_thread": {"start_new_thread": "code", "start_new": "code", "start_joinable_thread": "code"},
    "_posixsubprocess": "process",
    "posix": "process",
    "_multiprocessing": "process",
    "_posixshmem": "file-write",
    "_sqlite3": {"connect": "file-write", "Connection": "file-write"},
    "_dbm": {"open": "file-write"},
    "_gdbm": {"open": "file-write"},
    "readline": {"write_history_file": "file-write", "append_history_file": "file-write", "read_init_file": "code"},
    "_io": {"open": "file-write", "FileIO": "file-write", "open_code": "file-write"},
    "mmap": {"mmap": "file-write"},
    "fcntl": "file-write",
    "faulthandler": {"enable": "file-write", "dump_traceback": "file-write", "dump_traceback_later": "process",
                     "register": "file-write"},
    "syslog": {"syslog": "file-write", "openlog": "file-write"},
    "_socket": "network",
    "_ssl": "network",
    "_ctypes": "native",
    "_remote_debugging": "native",  # 3.14: reads the memory of other processes
    "_testcapi": "code",
    "_testinternalcapi": "code",
    "_testmultiphase": "code",
    "_testsinglephase": "code",
    "_testbuffer": "code",
    "_testclinic": "code",
    "_xxtestfuzz": "code",
    "_tkinter": "code",  # Tcl interpreters evaluate scripts
    "_lsprof": {"Profiler": "code"},
    "atexit": {"register": "code"},  # runs what it is given when the process exits
    "_signal": {"signal": "code", "set_wakeup_fd": "file-write", "pthread_kill": "process", "alarm": "process"},
    "_codecs": {"register": "code"},  # the codec machinery calls the search function it is given
    "_pickle": "unpickle",
    "marshal": {"load": "unpickle", "loads": "unpickle"},
}


def c_module_gadgets():
    """{module.name: [sink]} for the C modules above that this interpreter has (importing C code runs no Python)"""
    import importlib
    import inspect

    out = {}
    for mod, sinks in C_MODULES.items():
        try:
            m = importlib.import_module(mod)
        except BaseException:
            continue
        if isinstance(sinks, dict):
            names = [n for n in sinks if hasattr(m, n)]
        else:
            names = [n for n, v in vars(m).items() if callable(v) and not n.startswith("__")
                     and (inspect.isbuiltin(v) or inspect.isclass(v) or inspect.isroutine(v))]
        for n in names:
            out[f"{mod}.{n}"] = [sinks[n] if isinstance(sinks, dict) else sinks]
    return out


def package_files(root, prefix):
    """(module name, path, is_package) for every .py file below root, without importing anything"""
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        parts = [] if rel == "." else rel.split(os.sep)
        if any(p in SKIP or p.startswith(".") or p == "site-packages" or p == "dist-packages" or "-" in p for p in parts):
            dirnames[:] = []
            continue
        if parts and not os.path.exists(os.path.join(dirpath, "__init__.py")):
            dirnames[:] = []
            continue
        for fn in filenames:
            if not fn.endswith(".py"):
                continue
            if fn == "__init__.py":
                if parts:
                    yield prefix + ".".join(parts), os.path.join(dirpath, fn), True
            else:
                yield prefix + ".".join(parts + [fn[:-3]]), os.path.join(dirpath, fn), False


def main():
    stdlib = sysconfig.get_paths()["stdlib"]
    roots = [(stdlib, "")]
    torch_version = None
    import importlib.util

    for pkg in ("torch", "numpy"):
        try:
            spec = importlib.util.find_spec(pkg)
        except BaseException:
            spec = None
        if spec and spec.submodule_search_locations:
            loc = list(spec.submodule_search_locations)[0]
            roots.append((os.path.dirname(loc), ""))
            if pkg == "torch":
                for line in open(os.path.join(loc, "version.py")):
                    if line.startswith("__version__"):
                        torch_version = line.split("=")[1].strip().strip("'\"").split("+")[0]
    graphs = {}
    for root, prefix in roots:
        only = None if root == stdlib else {"torch", "numpy"}
        for name, path, is_pkg in package_files(root, prefix):
            if only is not None and name.split(".")[0] not in only:
                continue
            if name in graphs:
                continue
            try:
                with open(path, encoding="utf-8") as f:
                    tree = ast.parse(f.read())
            except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
                continue
            graphs[name] = ModuleGraph(name, tree, is_pkg)
    for frozen, rel in FROZEN_SOURCES.items():
        try:
            with open(os.path.join(stdlib, rel), encoding="utf-8") as f:
                graphs[frozen] = ModuleGraph(frozen, ast.parse(f.read()), False)
        except (OSError, SyntaxError):
            pass
    out = scan(graphs)
    for name, sinks in c_module_gadgets().items():
        out[name] = sorted(set(out.get(name, [])) | set(sinks))
    json.dump({"python": "%d.%d" % sys.version_info[:2], "torch": torch_version, "gadgets": out}, sys.stdout,
              indent=0, sort_keys=True)


if __name__ == "__main__":
    main()
