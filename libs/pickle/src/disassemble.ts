import type { ArgValue } from './arguments';
import { Machine, type MachineHost } from './machine';
import { OPCODES } from './opcodes';
import { isObject, pyRepr, UNKNOWN } from './values';

export interface DisassembledOp {
  offset: number;
  name: string;
  arg: string;
}

const NULL_HOST: MachineHost = {
  importGlobal: () => UNKNOWN,
  call: () => UNKNOWN,
  persistentLoad: () => UNKNOWN,
};

function render(a: ArgValue): string {
  if (a === undefined) return '';
  if (typeof a === 'object' && a !== null && 'line' in a)
    return JSON.stringify(Buffer.from(a.line).toString('latin1'));
  if (typeof a === 'object' && a !== null && 'module' in a && 'name' in a && !isObject(a as never)) {
    return `${a.module} ${a.name}`;
  }
  return pyRepr(a as never);
}

/** Lists opcodes like pickletools.dis, without executing them; stops after STOP or at the first bad byte. */
export function disassemble(bytes: Uint8Array, maxOps = 10_000): DisassembledOp[] {
  const m = new Machine(NULL_HOST);
  m.setWindow(bytes, 0, bytes.length);
  const out: DisassembledOp[] = [];
  while (m.pos < m.end && out.length < maxOps) {
    const start = m.pos;
    const def = OPCODES[m.buf[start]];
    if (!def) {
      out.push({ offset: start, name: `<invalid 0x${m.buf[start].toString(16)}>`, arg: '' });
      break;
    }
    m.pos = start + 1;
    let arg = '';
    try {
      arg = render(def.arg ? def.arg.read(m) : undefined);
    } catch {
      out.push({ offset: start, name: def.name, arg: '<truncated>' });
      break;
    }
    out.push({ offset: start, name: def.name, arg });
    if (def.name === 'STOP') break;
  }
  return out;
}
