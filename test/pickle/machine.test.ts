import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import {
  Machine,
  OPCODE_LIST,
  OPCODES,
  PyBytes,
  PyDict,
  PyFloat,
  PyGlobal,
  PyInstance,
  PyList,
  PySet,
  PyTuple,
  type CallEvent,
  type ImportEvent,
  type Limits,
  type MachineHost,
  type PyValue,
  type StructuralNote,
} from '@brine/pickle';
import { PickleAsm } from '../helpers/pickle-asm';

/** records what the machine reports; imports become PyGlobal, calls become PyInstance */
class RecordingHost implements MachineHost {
  imports: ImportEvent[] = [];
  calls: CallEvent[] = [];
  notes: StructuralNote[] = [];
  machine!: Machine;
  importGlobal(ev: ImportEvent): PyValue {
    this.imports.push(ev);
    return new PyGlobal(ev.module, ev.name);
  }
  call(ev: CallEvent): PyValue {
    this.calls.push(ev);
    const name = ev.callee instanceof PyGlobal ? ev.callee.fullName : '';
    const args = ev.args instanceof PyTuple ? ev.args.items : [];
    if (name === 'copyreg.add_extension' && typeof args[0] === 'string' && typeof args[1] === 'string') {
      this.machine.extensions.set(Number(args[2]), [args[0], args[1]]);
    }
    return new PyInstance(ev.callee, ev.args, ev.opcode);
  }
  persistentLoad(pid: PyValue): PyValue {
    return new PyInstance(null, pid, 'PERSID');
  }
  note(n: StructuralNote): void {
    this.notes.push(n);
  }
}

function run(bytes: Uint8Array, limits: Partial<Limits> = {}, windowSize = 0) {
  const host = new RecordingHost();
  const m = new Machine(host, limits);
  host.machine = m;
  let offset = 0;
  let r;
  do {
    const len = windowSize > 0 ? Math.max(windowSize, m.wanted) : bytes.length;
    m.setWindow(bytes.subarray(offset, offset + len), offset, bytes.length);
    r = m.run();
    offset = m.offset;
  } while (r === 'need-more');
  return { host, machine: m, result: r };
}

/** a plain JS rendering of abstract values, to compare with what Python pickled */
function plain(v: PyValue, seen = new Set<object>()): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return `n${v}`;
  if (v instanceof PyFloat) return { float: v.value };
  if (seen.has(v)) return '<cycle>';
  seen.add(v);
  try {
    if (v instanceof PyTuple) return { tuple: v.items.map((x) => plain(x, seen)) };
    if (v instanceof PyList) return v.items.map((x) => plain(x, seen));
    if (v instanceof PyDict)
      return { dict: v.keys.map((k, i) => [plain(k, seen), plain(v.values[i], seen)]) };
    if (v instanceof PySet) return { set: v.size };
    if (v instanceof PyBytes) return { bytes: v.data ? Buffer.from(v.data).toString('hex') : null };
    return { other: v.kind };
  } finally {
    seen.delete(v);
  }
}

const PYTHON_OBJECT = `
import json, pickle, sys
shared = [1, 2, 3]
obj = {
  'ints': [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31, 2**53 + 1, 2**63, -2**64 - 1, 10**40],
  'floats': [0.5, -1e300, 3.0, float('inf')],
  'strs': ['', 'a', 'caf\\u00e9 \\u6f22\\u5b57', 'x' * 300, 'line\\nbreak', 'back\\\\slash'],
  'nested': {'t': (1, (2, 3), ()), 'l': [[], [1], [1, 2, 3]], 't3': (1, 2, 3)},
  'shared': shared, 'shared2': shared,
  'consts': [True, False, None],
  'big': {str(i): i for i in range(1500)},
}
# the same string objects twice over: the second time they come from the memo (GET), decoded from the packed store
s1, s2, s3, s4 = 'caf\u00e9', '\u6f22\u5b57 \U0001f600', 'y' * 70000, 'ascii only'
obj['repeats'] = [s1, s2, s3, s4, s1, s2, s3, s4, s4]
def plain(x):
    if isinstance(x, bool) or x is None: return x
    if isinstance(x, int): return x if abs(x) <= 2**53 - 1 else 'n%d' % x
    if isinstance(x, float): return {'float': x if x != float('inf') else 'inf'}
    if isinstance(x, str): return x
    if isinstance(x, tuple): return {'tuple': [plain(i) for i in x]}
    if isinstance(x, list): return [plain(i) for i in x]
    if isinstance(x, dict): return {'dict': [[plain(k), plain(v)] for k, v in x.items()]}
out = {'expected': plain(obj), 'pickles': {p: pickle.dumps(obj, protocol=p).hex() for p in range(6)}}
print(json.dumps(out))
`;

function python(code: string): string {
  return execFileSync('python3', ['-c', code], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

describe('opcode table', () => {
  it('holds every opcode of protocols 0-5 exactly once, with a known protocol', () => {
    assert.equal(OPCODE_LIST.length, 68);
    assert.equal(new Set(OPCODE_LIST.map((d) => d.code)).size, 68);
    assert.equal(new Set(OPCODE_LIST.map((d) => d.name)).size, 68);
    for (const d of OPCODE_LIST) {
      assert.ok(d.proto >= 0 && d.proto <= 5, d.name);
      assert.equal(OPCODES[d.code], d);
    }
  });

  it('matches the names and protocols of pickletools', () => {
    const ours = OPCODE_LIST.map((d) => `${d.code}:${d.name}:${d.proto}`).sort();
    const theirs = python(
      'import pickletools,json;print(json.dumps(sorted(f"{ord(o.code.encode(\'latin1\'))}:{o.name}:{o.proto}" for o in pickletools.opcodes)))',
    );
    assert.deepEqual(ours, JSON.parse(theirs));
  });
});

describe('machine against CPython', () => {
  const data = JSON.parse(python(PYTHON_OBJECT)) as { expected: unknown; pickles: Record<string, string> };
  const expected = JSON.parse(JSON.stringify(data.expected).replace(/"inf"/g, '"__inf__"'));
  for (const [proto, hex] of Object.entries(data.pickles)) {
    for (const window of [0, 7]) {
      it(`rebuilds protocol ${proto} pickles exactly${window ? ' when fed in 7-byte windows' : ''}`, () => {
        // protocol 0 writes the 70,000-character string on one line: past the scanner's default line limit
        const { machine, result } = run(Buffer.from(hex, 'hex'), { maxLineBytes: 1 << 20 }, window);
        assert.equal(result, 'stop', String(machine.failure));
        const got = JSON.parse(
          JSON.stringify(plain(machine.result), (_k, v) => (v === Infinity ? '__inf__' : v)),
        );
        assert.deepEqual(got, expected);
      });
    }
  }
});

describe('stack, memo and marks', () => {
  it('MEMOIZE stores at len(memo), not at the highest index (memo confusion)', () => {
    // BINPUT 5 makes len(memo) == 1, so MEMOIZE writes slot 1
    const b = new PickleAsm()
      .proto(4)
      .shortStr('os')
      .binput(5)
      .op('POP')
      .shortStr('system')
      .op('MEMOIZE')
      .op('POP');
    b.binget(5).binget(1).op('STACK_GLOBAL').op('STOP');
    const { host, result } = run(b.bytes());
    assert.equal(result, 'stop');
    assert.deepEqual(
      host.imports.map((i) => `${i.module}.${i.name}`),
      ['os.system'],
    );
  });

  it('POP on an empty stack pops the mark, as CPython does', () => {
    const b = new PickleAsm().proto(2).int(7).op('MARK').op('POP').op('STOP');
    const { machine, result } = run(b.bytes());
    assert.equal(result, 'stop');
    assert.equal(machine.result, 7);
  });

  it('fails with IndexError on stack underflow and KeyError on a missing memo slot', () => {
    const under = run(new PickleAsm().proto(2).op('STOP').bytes());
    assert.equal(under.result, 'failed');
    assert.equal(under.machine.failure?.pyType, 'IndexError');
    const memo = run(new PickleAsm().proto(2).binget(9).op('STOP').bytes());
    assert.equal(memo.machine.failure?.pyType, 'KeyError');
    assert.equal(memo.machine.failure?.message, '9');
  });

  it('resolves imports after the Python 2 mapping for protocols below 3 only', () => {
    const p2 = run(new PickleAsm().proto(2).global('commands', 'getoutput').op('STOP').bytes());
    assert.equal(`${p2.host.imports[0].module}.${p2.host.imports[0].name}`, 'subprocess.getoutput');
    const p3 = run(new PickleAsm().proto(3).global('commands', 'getoutput').op('STOP').bytes());
    assert.equal(p3.host.imports[0].module, 'commands');
  });

  it('imports through EXT2 after copyreg.add_extension registered the code', () => {
    const b = new PickleAsm()
      .proto(2)
      .global('copyreg', 'add_extension')
      .op('MARK')
      .str('os')
      .str('system')
      .int(0x4242);
    b.op('TUPLE').op('REDUCE').op('POP').raw([0x83, 0x42, 0x42]).op('STOP');
    const { host, result } = run(b.bytes());
    assert.equal(result, 'stop');
    assert.deepEqual(
      host.imports.map((i) => `${i.opcode}:${i.module}.${i.name}`),
      ['GLOBAL:copyreg.add_extension', 'EXT2:os.system'],
    );
  });

  it('reports an EXT code nobody registered and fails like CPython', () => {
    const { host, machine } = run(new PickleAsm().proto(2).raw([0x82, 0x05]).op('STOP').bytes());
    assert.equal(machine.failure?.message, 'unregistered extension code 5');
    assert.ok(host.notes.some((n) => n.rule === 'ext-unregistered'));
  });

  it('reads a GLOBAL cut by the end of the stream like readline()[:-1]', () => {
    const { host, machine } = run(Buffer.from('\x80\x02ctorch\nSize.', 'latin1'));
    assert.deepEqual(
      host.imports.map((i) => `${i.module}.${i.name}`),
      ['torch.Size'],
    );
    assert.equal(machine.failure?.pyType, 'EOFError');
  });
});

describe('frames', () => {
  it('notes an opcode whose argument runs past the end of its FRAME', () => {
    const inner = new PickleAsm().shortStr('abcdef').op('STOP').bytes();
    const b = new PickleAsm().proto(4).frame(inner.subarray(0, 3)).raw(inner.subarray(3)).bytes();
    const { host, result } = run(b);
    assert.equal(result, 'stop');
    assert.ok(
      host.notes.some((n) => n.rule === 'frame-straddle'),
      JSON.stringify(host.notes),
    );
  });

  it('accepts opcodes that end exactly at the frame boundary', () => {
    const inner = new PickleAsm().shortStr('abc').op('STOP').bytes();
    const { host, result } = run(new PickleAsm().proto(4).frame(inner).bytes());
    assert.equal(result, 'stop');
    assert.deepEqual(host.notes, []);
  });
});

describe('limits', () => {
  it('stops at the opcode limit with a limit failure, not a crash', () => {
    const b = new PickleAsm().proto(2);
    for (let i = 0; i < 100; i++) b.op('NONE').op('POP');
    const { machine, result } = run(b.op('NONE').op('STOP').bytes(), { maxOpcodes: 50 });
    assert.equal(result, 'failed');
    assert.equal(machine.failure?.kind, 'limit');
  });

  it('bounds MARK nesting and memo entries', () => {
    const marks = run(Buffer.concat([Buffer.from([0x80, 2]), Buffer.alloc(5000, 0x28)]), {
      maxMarkDepth: 1000,
    });
    assert.equal(marks.machine.failure?.kind, 'limit');
    const memo = new PickleAsm().proto(2).op('NONE');
    for (let i = 0; i < 300; i++) memo.raw([0x72, i & 0xff, i >> 8, 0, 0]);
    const m = run(memo.op('STOP').bytes(), { maxMemoEntries: 100 });
    assert.equal(m.machine.failure?.kind, 'limit');
  });

  it('remembers memoized strings within their byte budget, and fails a GET of one past it', () => {
    const b = new PickleAsm()
      .proto(4)
      .op('MARK')
      .shortStr('abcdefghij')
      .op('MEMOIZE')
      .shortStr('klm')
      .op('MEMOIZE');
    b.binget(0).binget(1).op('LIST').op('STOP');
    const within = run(b.bytes(), { maxMemoStringBytes: 13 });
    assert.equal(within.result, 'stop');
    assert.deepEqual(plain(within.machine.result), ['abcdefghij', 'klm', 'abcdefghij', 'klm']);
    const past = run(b.bytes(), { maxMemoStringBytes: 12 });
    assert.equal(past.result, 'failed');
    assert.equal(past.machine.failure?.kind, 'limit');
    assert.match(past.machine.failure?.message ?? '', /memoized string/);
    // a string past the budget that is never fetched costs nothing
    const unused = new PickleAsm().proto(4).shortStr('abcdefghij').op('MEMOIZE').op('POP');
    unused.shortStr('klm').op('MEMOIZE').op('STOP');
    assert.equal(run(unused.bytes(), { maxMemoStringBytes: 12 }).result, 'stop');
  });

  it('checks a declared length against the stream before allocating', () => {
    // BINBYTES8 declaring 2^62 bytes in a 20-byte stream
    const b = Buffer.from([0x80, 4, 0x8e, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x2e]);
    const { machine, result } = run(b);
    assert.equal(result, 'failed');
    assert.equal(machine.failure?.kind, 'truncated');
  });

  it('skips long payloads without keeping them and still reaches STOP', () => {
    const big = Buffer.alloc(3 << 20, 0x61);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(big.length);
    const b = Buffer.concat([Buffer.from([0x80, 3, 0x42]), len, big, Buffer.from('.')]);
    const { machine, result } = run(b, { maxRetainedBytes: 1 << 20 }, 64 * 1024);
    assert.equal(result, 'stop');
    assert.ok(machine.result instanceof PyBytes);
    assert.equal(machine.result.length, big.length);
    assert.equal(machine.result.data, null);
  });
});

describe('text opcodes (protocol 0)', () => {
  it('decodes INT bools, LONG, FLOAT, STRING escapes and UNICODE escapes', () => {
    const b = Buffer.from(
      "(I01\nI00\nI-42\nL12345678901234567890L\nF2.5\nS'a\\nb\\x41'\nVcaf\\u00e9\nl.",
      'latin1',
    );
    const { machine, result } = run(b);
    assert.equal(result, 'stop', String(machine.failure));
    assert.deepEqual(plain(machine.result), [
      true,
      false,
      -42,
      'n12345678901234567890',
      { float: 2.5 },
      'a\nbA',
      'café',
    ]);
  });
});
