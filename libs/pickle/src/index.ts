// The public face of the pickle machine. Hot paths (the scanner) import the modules themselves
// ('@brine/pickle/values', …): TypeScript compiles these re-exports into getters that all share one megamorphic
// body, which cost a fifth of the scan time of a large state dict when called per opcode.
export * from './values';
export * from './machine';
export * from './opcodes';
export { mapPython2Name } from './python2-names';
export { decodeLong } from './arguments';
export { decodeUtf8, DecodeError, parsePythonInt } from './text';
export { disassemble, type DisassembledOp } from './disassemble';
