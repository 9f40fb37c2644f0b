/**
 * Grades imports that the allowlist refused. The allowlist alone decides "safe"; this list only separates
 * known code-execution primitives ("dangerous") from the merely unexpected ("suspicious", e.g. a pickled
 * nn.Module class). A name missing here is never treated as safe — it is suspicious.
 */

export interface ThreatMatch {
  readonly reason: string;
}

/** modules where every member reaches processes, files, the network, the interpreter or another unpickler */
const DANGEROUS_MODULES: ReadonlyArray<readonly [string, string]> = [
  ['os', 'operating-system access: processes, files, environment'],
  ['posix', 'operating-system access: processes, files, environment'],
  ['nt', 'operating-system access: processes, files, environment'],
  ['sys', 'interpreter internals (modules, exit, hooks)'],
  ['subprocess', 'runs processes'],
  ['commands', 'runs processes'],
  ['popen2', 'runs processes'],
  ['pty', 'spawns a shell'],
  ['pexpect', 'spawns processes'],
  ['sh', 'runs processes'],
  ['plumbum', 'runs processes'],
  ['shutil', 'copies, moves and deletes files'],
  ['tempfile', 'creates files'],
  ['glob', 'reads the file system'],
  ['socket', 'opens network connections'],
  ['socketserver', 'opens network servers'],
  ['ssl', 'opens network connections'],
  ['http', 'network access'],
  ['httplib', 'network access'],
  ['urllib.request', 'network access'],
  ['urllib2', 'network access'],
  ['requests', 'network access'],
  ['httpx', 'network access'],
  ['aiohttp', 'network access'],
  ['ftplib', 'network access'],
  ['smtplib', 'network access'],
  ['telnetlib', 'network access'],
  ['xmlrpc', 'network access'],
  ['paramiko', 'remote shell access'],
  ['webbrowser', 'opens programs'],
  ['asyncio', 'event loop with process and network primitives'],
  ['multiprocessing', 'starts processes'],
  ['concurrent', 'starts processes and threads'],
  ['threading', 'starts threads running arbitrary callables'],
  ['_thread', 'starts threads running arbitrary callables'],
  ['signal', 'installs signal handlers'],
  ['ctypes', 'calls native code'],
  ['_ctypes', 'calls native code'],
  ['cffi', 'calls native code'],
  ['importlib', 'imports arbitrary modules'],
  ['imp', 'imports arbitrary modules'],
  ['zipimport', 'imports code from archives'],
  ['pkgutil', 'resolves and imports arbitrary names'],
  ['runpy', 'runs Python code'],
  ['code', 'runs Python code'],
  ['codeop', 'compiles Python code'],
  ['py_compile', 'compiles Python code'],
  ['compileall', 'compiles Python code'],
  ['timeit', 'runs Python code given as text'],
  ['pdb', 'runs Python code given as text'],
  ['bdb', 'runs Python code given as text'],
  ['trace', 'runs Python code given as text'],
  ['profile', 'runs Python code given as text'],
  ['cProfile', 'runs Python code given as text'],
  ['doctest', 'runs Python code given as text'],
  ['idlelib', 'runs Python code'],
  ['pydoc', 'imports arbitrary names and runs pagers'],
  ['site', 'changes interpreter start-up'],
  ['ensurepip', 'installs packages'],
  ['pip', 'installs packages'],
  ['setuptools', 'builds and installs packages'],
  ['distutils', 'builds and runs commands'],
  ['venv', 'creates environments and runs commands'],
  ['pickle', 'a second unpickler: loads a payload the scanner never saw'],
  ['_pickle', 'a second unpickler: loads a payload the scanner never saw'],
  ['cPickle', 'a second unpickler: loads a payload the scanner never saw'],
  ['dill', 'a second unpickler: loads a payload the scanner never saw'],
  ['cloudpickle', 'a second unpickler: loads a payload the scanner never saw'],
  ['shelve', 'a second unpickler over a file'],
  ['marshal', 'loads code objects'],
  ['gzip', 'opens and writes files'],
  ['bz2', 'opens and writes files'],
  ['lzma', 'opens and writes files'],
  ['zipfile', 'opens and writes files'],
  ['tarfile', 'opens, extracts and writes files'],
  ['sqlite3', 'opens database files'],
  ['dbm', 'opens database files'],
  ['logging.config', 'evaluates configuration and listens on sockets'],
  ['_osx_support', 'runs helper commands'],
  ['inspect', 'attribute-walk gadgets (getattr_static)'],
  ['joblib', 'a second unpickler: loads a payload the scanner never saw'],
  ['torch.hub', 'downloads and runs code'],
  ['torch.utils.cpp_extension', 'compiles and loads native code'],
  ['torch.package', 'imports code from packages'],
  ['torch._inductor', 'compiles and loads native code'],
  ['torch.fx.graph_module', 'executes generated Python code'],
  ['numpy.testing', 'runs Python code given as text'],
  ['numpy.f2py', 'compiles code'],
  ['numpy.distutils', 'runs commands'],
  ['numpy.ctypeslib', 'loads native libraries'],
];

/** exact names in otherwise harmless modules */
const DANGEROUS_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['builtins.eval', 'evaluates Python code'],
  ['builtins.exec', 'executes Python code'],
  ['builtins.execfile', 'executes a Python file'],
  ['builtins.compile', 'compiles Python code'],
  ['builtins.__import__', 'imports arbitrary modules'],
  ['builtins.open', 'opens files'],
  ['builtins.file', 'opens files'],
  ['builtins.input', 'reads the terminal'],
  ['builtins.breakpoint', 'starts a debugger'],
  ['builtins.getattr', 'attribute-walk gadget'],
  ['builtins.setattr', 'mutates arbitrary objects'],
  ['builtins.delattr', 'mutates arbitrary objects'],
  ['builtins.globals', 'exposes interpreter state'],
  ['builtins.locals', 'exposes interpreter state'],
  ['builtins.vars', 'exposes interpreter state'],
  ['builtins.exit', 'ends the process'],
  ['builtins.quit', 'ends the process'],
  ['builtins.apply', 'calls arbitrary callables'],
  ['builtins.reload', 'reloads modules'],
  ['builtins.help', 'runs a pager'],
  ['types.FunctionType', 'builds functions from code objects'],
  ['types.LambdaType', 'builds functions from code objects'],
  ['types.CodeType', 'builds code objects'],
  ['types.MethodType', 'binds arbitrary callables'],
  ['io.open', 'opens files'],
  ['io.open_code', 'opens files'],
  ['io.FileIO', 'opens files'],
  ['_io.open', 'opens files'],
  ['_io.open_code', 'opens files'],
  ['_io.FileIO', 'opens files'],
  ['platform.popen', 'runs commands'],
  ['platform._syscmd_file', 'runs commands'],
  ['platform._syscmd_ver', 'runs commands'],
  ['uuid._get_command_stdout', 'runs commands'],
  ['operator.attrgetter', 'attribute-walk gadget'],
  ['operator.methodcaller', 'calls arbitrary methods'],
  ['operator.call', 'calls arbitrary callables'],
  ['functools.reduce', 'calls arbitrary callables'],
  ['torch._C._jit_pass_lower_graph', 'native internals'],
  ['copyreg.add_extension', 'registers import codes used by EXT1/EXT2/EXT4'],
  ['copy_reg.add_extension', 'registers import codes used by EXT1/EXT2/EXT4'],
  ['torch.load', 'a second unpickler: loads a payload the scanner never saw'],
  ['torch.serialization.load', 'a second unpickler: loads a payload the scanner never saw'],
  ['torch.serialization._load', 'a second unpickler: loads a payload the scanner never saw'],
  ['torch.jit.load', 'loads TorchScript code'],
  ['torch.jit._serialization.load', 'loads TorchScript code'],
  ['torch.ops.load_library', 'loads native code'],
  ['numpy.load', 'a second unpickler (allow_pickle)'],
  ['numpy.lib.npyio.load', 'a second unpickler (allow_pickle)'],
  ['numpy.loads', 'a second unpickler'],
  ['numpy.core.multiarray.loads', 'a second unpickler'],
  ['numpy.fromfile', 'reads files'],
  ['numpy.save', 'writes files'],
  ['numpy.tofile', 'writes files'],
  ['pandas.read_pickle', 'a second unpickler'],
  ['pandas.io.pickle.read_pickle', 'a second unpickler'],
  ['pathlib.Path.write_text', 'writes files'],
  ['pathlib.Path.write_bytes', 'writes files'],
  ['pathlib.Path.unlink', 'deletes files'],
];

/** chained loaders whose argument we can scan ourselves: suspicious when the inner payload is clean */
export const CHAINED_LOADERS: ReadonlySet<string> = new Set(['torch.storage._load_from_bytes']);

const modules = new Map(DANGEROUS_MODULES);
const names = new Map(DANGEROUS_NAMES);

/** Known-hostile? Checks the name, its modules, and every dotted continuation (`pathlib` + `os.system`). */
export function threatOf(module: string, name: string): ThreatMatch | null {
  const candidates = [`${module}.${name}`];
  // STACK_GLOBAL 'pathlib' 'os.system' walks attributes: any dotted suffix can be the real target
  const parts = name.split('.');
  for (let i = 1; i < parts.length; i++) candidates.push(parts.slice(i).join('.'));
  if (parts.length > 1) candidates.push(name);
  for (const full of candidates) {
    const exact = names.get(full);
    if (exact) return { reason: exact };
    const segs = full.split('.');
    for (let k = segs.length - 1; k >= 1; k--) {
      const m = modules.get(segs.slice(0, k).join('.'));
      if (m) return { reason: m };
    }
  }
  if (parts.length > 1 && parts.some((p) => p.startsWith('__') && p.endsWith('__') && p !== '__init__')) {
    return { reason: 'dunder attribute walk reaches interpreter internals' };
  }
  return null;
}
