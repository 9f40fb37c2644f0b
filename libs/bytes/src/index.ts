/**
 * Bytes: random-access byte sources (a file, an S3 object, a buffer, a window of another source) and the generic
 * stream decoders (deflate/zlib/gzip, bzip2, LZMA/XZ, zstd) that read through them. Plain TypeScript, no Nest and
 * no I/O of its own: whoever owns the file or the object provides the ByteSource.
 */
export * from './source';
export * from './compression/input';
export * from './compression/decompressed-source';
export * from './compression/deflate';
export * from './compression/bzip2';
export * from './compression/lzma';
