import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MemorySource } from '@brine/bytes';
import { scan, type ScanReport } from '@brine/scanner';
import { FIXTURES, SHARED } from '../helpers/paths';

/**
 * Fuzzing: mutations and truncations of real files plus random bytes. Every input must produce a report
 * (no uncaught exception, no hang), and an input that could not be parsed to the end is never "safe".
 * Deterministic: BRINE_FUZZ_SEED reproduces a run, BRINE_FUZZ_INPUTS changes its size (default 100 000).
 */
const INPUTS = Number(process.env.BRINE_FUZZ_INPUTS ?? 100_000);
const SEED = Number(process.env.BRINE_FUZZ_SEED ?? 0x5eed);
const SLOW_MS = 5_000;

/** xorshift32 */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return { next, below: (n: number) => next() % n, chance: (p: number) => next() / 0x100000000 < p };
}

function corpus(): Buffer[] {
  const dirs = [join(FIXTURES, 'files'), join(SHARED, 'vectors', 'files')].filter((d) => existsSync(d));
  const out: Buffer[] = [];
  for (const d of dirs) {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).size <= 24 * 1024) out.push(readFileSync(p));
    }
  }
  return out;
}

const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x2e, 0x28, 0x63, 0x93, 0x94, 0x95, 0x52, 0x51, 0x0a];

function mutate(r: ReturnType<typeof rng>, base: Buffer, other: Buffer): Buffer {
  const b = Buffer.from(base);
  const kind = r.below(8);
  switch (kind) {
    case 0: // truncation
      return b.subarray(0, r.below(b.length + 1));
    case 1: {
      // bit flips
      const n = 1 + r.below(4);
      for (let i = 0; i < n && b.length > 0; i++) b[r.below(b.length)] ^= 1 << r.below(8);
      return b;
    }
    case 2: {
      // interesting bytes
      const n = 1 + r.below(3);
      for (let i = 0; i < n && b.length > 0; i++)
        b[r.below(b.length)] = INTERESTING[r.below(INTERESTING.length)];
      return b;
    }
    case 3: {
      // extreme 32-bit length fields
      if (b.length < 5) return b;
      const at = r.below(b.length - 4);
      b.writeUInt32LE([0xffffffff, 0x7fffffff, 0x80000000, 0x10000][r.below(4)], at);
      return b;
    }
    case 4: {
      // insert or delete a run
      const at = r.below(b.length + 1);
      if (r.chance(0.5))
        return Buffer.concat([
          b.subarray(0, at),
          Buffer.alloc(1 + r.below(16), r.below(256)),
          b.subarray(at),
        ]);
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + r.below(16)))]);
    }
    case 5: {
      // splice with another file
      const a = r.below(b.length + 1);
      const o = r.below(other.length + 1);
      return Buffer.concat([b.subarray(0, a), other.subarray(o)]);
    }
    case 6: {
      // duplicate a chunk
      const a = r.below(b.length + 1);
      const len = r.below(64);
      return Buffer.concat([b.subarray(0, a), b.subarray(a, a + len), b.subarray(a)]);
    }
    default: {
      // random bytes, sometimes behind a pickle header
      const rand = Buffer.alloc(r.below(512));
      for (let i = 0; i < rand.length; i++) rand[i] = r.below(256);
      return r.chance(0.5) ? Buffer.concat([Buffer.from([0x80, r.below(6)]), rand]) : rand;
    }
  }
}

function parsedToTheEnd(r: ScanReport): boolean {
  return (
    !r.findings.some((f) => f.severity === 'unknown') &&
    !r.entries.some((e) => e.scanned && e.complete === false)
  );
}

describe('fuzz', () => {
  it(`scans ${INPUTS} mutated and random inputs without crashing, hanging, or calling a broken file safe`, async () => {
    const base = corpus();
    assert.ok(base.length > 20, 'the corpus should hold the fixtures');
    const r = rng(SEED);
    const counts = { safe: 0, suspicious: 0, dangerous: 0, unknown: 0 };
    let slowest = 0;
    for (let i = 0; i < INPUTS; i++) {
      const input = mutate(r, base[r.below(base.length)], base[r.below(base.length)]);
      const started = Date.now();
      let report: ScanReport;
      try {
        report = await scan(new MemorySource(input), { path: `fuzz-${i}`, filename: `fuzz-${i}.pt` });
      } catch (e) {
        throw new Error(
          `input ${i} (seed ${SEED}, ${input.length} bytes ${input.subarray(0, 32).toString('hex')}…) threw: ${(e as Error).stack}`,
        );
      }
      const ms = Date.now() - started;
      slowest = Math.max(slowest, ms);
      assert.ok(ms < SLOW_MS, `input ${i} (seed ${SEED}) took ${ms} ms`);
      counts[report.verdict]++;
      if (report.verdict === 'safe') {
        assert.ok(
          parsedToTheEnd(report),
          `input ${i} (seed ${SEED}) is "safe" but was not parsed to the end`,
        );
        assert.equal(report.weightsOnly.byVersion[report.weightsOnly.target].loads, true);
      }
    }
    console.log(`fuzz: ${INPUTS} inputs (seed ${SEED}): ${JSON.stringify(counts)}, slowest ${slowest} ms`);
    assert.equal(counts.safe + counts.suspicious + counts.dangerous + counts.unknown, INPUTS);
  });
});
