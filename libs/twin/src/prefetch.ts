import { readExactly, type ByteSource, type ZipArchive, type ZipEntry } from '@brine/scanner';

/** a storage record this small is read together with its neighbours, not on its own */
export const SMALL_RECORD = 1024 * 1024;
/** at most this many bytes of small records are held at once */
export const PREFETCH_BUDGET = 64 * 1024 * 1024;
/** neighbouring records are read in one range when the gap between them is at most this */
const MAX_GAP = 64 * 1024;
/** and the range stays at most this long */
const MAX_RANGE = 16 * 1024 * 1024;

interface Region {
  start: number;
  bytes: Uint8Array;
}

/**
 * A source that serves reads falling inside ranges it fetched beforehand, and passes every other read on. A state
 * dict of many small tensors (biases, norms) would otherwise cost two range requests per tensor (its local header,
 * its data); their records are read here in a few long ranges, headers included, in file order.
 */
export class PrefetchedSource implements ByteSource {
  private readonly regions: Region[] = [];
  /** requests made to the inner source by prefetch() */
  requests = 0;

  constructor(private readonly inner: ByteSource) {}

  get size(): number {
    return this.inner.size;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    let lo = 0;
    let hi = this.regions.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.regions[mid];
      if (offset < r.start) hi = mid - 1;
      else if (offset >= r.start + r.bytes.length) lo = mid + 1;
      else {
        const end = Math.min(offset + length, this.inner.size);
        if (end <= r.start + r.bytes.length)
          return Promise.resolve(r.bytes.subarray(offset - r.start, end - r.start));
        break;
      }
    }
    return this.inner.read(offset, length);
  }

  /**
   * Reads the records (local header, name, extra field and data: everything up to the next entry) of the small
   * ones among `entries`, coalesced into long ranges, up to PREFETCH_BUDGET bytes.
   */
  async prefetch(zip: ZipArchive, entries: Iterable<ZipEntry>): Promise<void> {
    const bounds = [...new Set(zip.entries.map((e) => e.localHeaderOffset)), zip.centralDirectoryOffset].sort(
      (a, b) => a - b,
    );
    const next = (start: number): number => {
      let lo = 0;
      let hi = bounds.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (bounds[mid] <= start) lo = mid + 1;
        else hi = mid;
      }
      return bounds[lo] > start ? bounds[lo] : this.inner.size;
    };
    const spans = [...new Set(entries)]
      .filter((e) => e.size <= SMALL_RECORD)
      .map((e) => ({ start: e.localHeaderOffset, end: Math.min(next(e.localHeaderOffset), this.inner.size) }))
      .filter((x) => x.end > x.start && x.end - x.start <= SMALL_RECORD + 64 * 1024)
      .sort((a, b) => a.start - b.start);
    let budget = PREFETCH_BUDGET;
    let i = 0;
    while (i < spans.length) {
      const start = spans[i].start;
      let end = spans[i].end;
      let j = i + 1;
      while (j < spans.length && spans[j].start - end <= MAX_GAP && spans[j].end - start <= MAX_RANGE)
        end = Math.max(end, spans[j++].end);
      if (end - start > budget) break;
      budget -= end - start;
      this.regions.push({ start, bytes: await readExactly(this.inner, start, end - start) });
      this.requests++;
      i = j;
    }
  }
}
