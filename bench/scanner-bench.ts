import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { CountingSource, scan } from '@brine/scanner';
import { LocalFileSource } from '@brine/storage';
import { OUT_DIR, median, runNode, type BenchResult } from './bench-util';

/**
 * Scanner figures: throughput on a ≥50 MB pickle of millions of small objects against Python's
 * pickletools.genops on the same file in the same run, our peak RSS, and what scanning a 2 GB torch zip reads.
 */
export async function scannerBench(): Promise<BenchResult[]> {
  mkdirSync(OUT_DIR, { recursive: true });
  const results: BenchResult[] = [];

  const pkl = join(OUT_DIR, 'many-objects.pkl');
  if (!existsSync(pkl)) {
    console.log('generating a pickle of 1.3M records (about 5M small objects) with python3 …');
    execFileSync('python3', [
      '-c',
      `import pickle
objs = [{'id': i, 'label': 'cat' if i % 3 else 'dog', 'score': i * 0.5, 'box': (i, i + 1, 3, 4)} for i in range(1_300_000)]
with open(${JSON.stringify(pkl)}, 'wb') as f: pickle.dump(objs, f, protocol=4)`,
    ]);
  }
  const size = statSync(pkl).size;
  const runs: Array<{ ms: number; rssMB: number }> = [];
  for (let i = 0; i < 3; i++) runs.push(JSON.parse(runNode(join(__dirname, 'scan-one.js'), [pkl])));
  const ms = median(runs.map((r) => r.ms));
  const mbps = size / 1e6 / (ms / 1000);
  const rss = Math.max(...runs.map((r) => r.rssMB));
  const genopsMs = Number(
    execFileSync('python3', [
      '-c',
      `import pickletools, time
t = time.perf_counter()
with open(${JSON.stringify(pkl)}, 'rb') as f:
    for _ in pickletools.genops(f): pass
print((time.perf_counter() - t) * 1000)`,
    ]).toString(),
  );
  const genopsMbps = size / 1e6 / (genopsMs / 1000);
  results.push(
    { name: 'pickle size', value: size / 1e6, unit: 'MB' },
    { name: 'brine scan throughput (median of 3)', value: mbps, unit: 'MB/s', target: '≥ 100' },
    { name: 'pickletools.genops throughput', value: genopsMbps, unit: 'MB/s' },
    { name: 'speed-up over genops', value: mbps / genopsMbps, unit: '×', target: '≥ 20' },
    { name: 'brine scan peak RSS', value: rss, unit: 'MB', target: '< 256' },
  );

  const zip = join(OUT_DIR, 'big-2gb.pt');
  if (!existsSync(zip)) writeSparseTorchZip(zip, 32, 64 * 1024 * 1024);
  const src = new CountingSource(await LocalFileSource.open(zip));
  const t = process.hrtime.bigint();
  const report = await scan(src, { path: zip, filename: zip });
  const zipMs = Number(process.hrtime.bigint() - t) / 1e6;
  results.push(
    { name: '2 GB torch zip: size', value: statSync(zip).size / 1e9, unit: 'GB' },
    { name: '2 GB torch zip: bytes read to scan', value: src.bytesRead / 1e3, unit: 'KB', target: '< 1000' },
    { name: '2 GB torch zip: reads', value: src.reads, unit: '' },
    { name: '2 GB torch zip: scan time', value: zipMs, unit: 'ms' },
    {
      name: '2 GB torch zip: verdict',
      value: report.verdict === 'safe' ? 1 : 0,
      unit: `(${report.verdict}, ${report.tensors.count} tensors)`,
    },
  );
  return results;
}

/**
 * A torch.save-style zip holding `count` float32 storages of `bytes` each. The storage data are holes in a sparse
 * file, so 2 GB cost no disk and no time to write; every header, CRC and size is real.
 */
export function writeSparseTorchZip(path: string, count: number, bytes: number): void {
  const prefix = 'big/';
  const numel = bytes / 4;
  const pkl = stateDictPickle(count, numel);
  const zeroCrc = crc32(Buffer.alloc(bytes));
  const entries: Array<{ name: string; data: Buffer | null; size: number; crc: number; offset: number }> = [
    { name: `${prefix}data.pkl`, data: pkl, size: pkl.length, crc: crc32(pkl), offset: 0 },
    {
      name: `${prefix}byteorder`,
      data: Buffer.from('little'),
      size: 6,
      crc: crc32(Buffer.from('little')),
      offset: 0,
    },
    ...Array.from({ length: count }, (_, i) => ({
      name: `${prefix}data/${i}`,
      data: null,
      size: bytes,
      crc: zeroCrc,
      offset: 0,
    })),
    {
      name: `${prefix}version`,
      data: Buffer.from('3\n'),
      size: 2,
      crc: crc32(Buffer.from('3\n')),
      offset: 0,
    },
  ];
  const fd = openSync(path, 'w');
  let pos = 0;
  for (const e of entries) {
    e.offset = pos;
    const name = Buffer.from(e.name);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt32LE(e.crc >>> 0, 14);
    h.writeUInt32LE(e.size, 18);
    h.writeUInt32LE(e.size, 22);
    h.writeUInt16LE(name.length, 26);
    writeSync(fd, Buffer.concat([h, name]), 0, 30 + name.length, pos);
    pos += 30 + name.length;
    if (e.data) writeSync(fd, e.data, 0, e.data.length, pos);
    pos += e.size;
  }
  const cdStart = pos;
  const cd: Buffer[] = [];
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt32LE(e.crc >>> 0, 16);
    c.writeUInt32LE(e.size, 20);
    c.writeUInt32LE(e.size, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(e.offset, 42);
    cd.push(c, name);
  }
  const cdBuf = Buffer.concat(cd);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cdBuf.length, 12);
  eocd.writeUInt32LE(cdStart, 16);
  const tail = Buffer.concat([cdBuf, eocd]);
  writeSync(fd, tail, 0, tail.length, cdStart);
  ftruncateSync(fd, cdStart + tail.length);
  closeSync(fd);
}

/** OrderedDict of `count` float32 tensors of `numel` elements, pickled like torch.save (protocol 2) */
function stateDictPickle(count: number, numel: number): Buffer {
  const parts: Buffer[] = [
    Buffer.from([0x80, 2]),
    Buffer.from('ccollections\nOrderedDict\nq\x00)Rq\x01(', 'latin1'),
  ];
  const str = (s: string) => {
    const b = Buffer.from(s);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    return Buffer.concat([Buffer.from('X'), len, b]);
  };
  const int = (n: number) => {
    const b = Buffer.alloc(5);
    b[0] = 0x4a;
    b.writeInt32LE(n, 1);
    return b;
  };
  for (let i = 0; i < count; i++) {
    parts.push(
      str(`layer${i}.weight`),
      Buffer.from('ctorch._utils\n_rebuild_tensor_v2\n(', 'latin1'),
      Buffer.from('(', 'latin1'),
      str('storage'),
      Buffer.from('ctorch\nFloatStorage\n', 'latin1'),
      str(String(i)),
      str('cpu'),
      int(numel),
      Buffer.from('tQ', 'latin1'),
      int(0),
      int(numel),
      Buffer.from('\x85', 'latin1'),
      int(1),
      Buffer.from('\x85\x89ccollections\nOrderedDict\n)RtR', 'latin1'),
    );
  }
  parts.push(Buffer.from('u.', 'latin1'));
  return Buffer.concat(parts);
}
