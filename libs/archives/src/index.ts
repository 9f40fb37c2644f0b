/**
 * Archives: zip and tar reading, each the way a particular reader does it — miniz as PyTorch builds it
 * (zip-archive.ts, miniz-index.ts), CPython's zipfile (zipfile.ts) and tarfile (tar.ts) — so the places where
 * readers disagree can be found. Reads through @brine/bytes sources; plain TypeScript, no Nest, no I/O.
 */
export * from './zip/miniz-index';
export * from './zip/zip-archive';
export * from './zip/zipfile';
export * from './tar';
export * from './zip/layouts';
