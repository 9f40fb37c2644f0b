export * from './values';
export * from './machine';
export * from './opcodes';
export { mapPython2Name } from './python2-names';
export { decodeLong } from './arguments';
export { decodeUtf8, DecodeError, parsePythonInt } from './text';
export { disassemble, type DisassembledOp } from './disassemble';
