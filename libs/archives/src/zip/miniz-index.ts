/**
 * miniz's name lookup, as PyTorch's PyTorchStreamReader uses it: `mz_zip_reader_locate_file(zip, name, NULL, 0)`.
 *
 * With flags 0 miniz does not compare names exactly. When the archive is opened it heap-sorts the central
 * directory's indices by name, folding ASCII letters to lower case (`mz_zip_reader_sort_central_dir_offsets_by_filename`
 * with `mz_zip_reader_filename_less`), and every lookup is a binary search over that order with the same folding
 * (`mz_zip_locate_file_binary_search` with `mz_zip_filename_compare`). So `archive/DATA.PKL` answers a lookup of
 * `archive/data.pkl`, and when several entries fold to the same name, which one answers depends on where the heap
 * sort (which is not stable) left them and on the path of the binary search. This module reproduces both steps
 * operation for operation (miniz 2.1.0 in torch 1.13 and 3.0.2 in torch 2.x do the same), so the scanner reads the
 * very entry torch reads. Names are compared as bytes, where they lie in the central directory (no copy per entry).
 */

/** the names of an archive's entries: entry i is buf[start[i] .. start[i] + length[i]) */
export interface NameTable {
  readonly buf: Uint8Array;
  readonly start: Uint32Array;
  readonly length: Uint16Array;
}

/** miniz's MZ_TOLOWER: ASCII letters only */
function fold(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/** mz_zip_filename_compare on two byte ranges: <0, 0, >0 (a shorter name that is a prefix sorts first) */
function compareRanges(
  buf: Uint8Array,
  l: number,
  ln: number,
  rb: Uint8Array,
  r: number,
  rn: number,
): number {
  const n = Math.min(ln, rn);
  for (let i = 0; i < n; i++) {
    const a = fold(buf[l + i]);
    const b = fold(rb[r + i]);
    if (a !== b) return a - b;
  }
  return ln - rn;
}

/** the name with ASCII letters folded, as a string key (Latin-1, so bytes stay distinct) */
export function foldedKey(name: Uint8Array): string {
  let s = '';
  for (let i = 0; i < name.length; i++) s += String.fromCharCode(fold(name[i]));
  return s;
}

export class MinizIndex {
  /** central-directory indices in miniz's sorted order */
  readonly sorted: Uint32Array;

  constructor(private readonly names: NameTable) {
    this.sorted = heapSort(names);
  }

  /** whether entries i and j fold to the same name */
  sameFolded(i: number, j: number): boolean {
    const { buf, start, length } = this.names;
    return compareRanges(buf, start[i], length[i], buf, start[j], length[j]) === 0;
  }

  /** the central-directory index miniz returns for `name`, or -1 (MZ_ZIP_FILE_NOT_FOUND) */
  locate(name: Uint8Array): number {
    const idx = this.sorted;
    const { buf, start, length } = this.names;
    let l = 0;
    let h = idx.length - 1;
    while (l <= h) {
      const m = l + ((h - l) >> 1);
      const fileIndex = idx[m];
      const comp = compareRanges(buf, start[fileIndex], length[fileIndex], name, 0, name.length);
      if (comp === 0) return fileIndex;
      if (comp < 0) l = m + 1;
      else h = m - 1;
    }
    return -1;
  }
}

/** mz_zip_reader_sort_central_dir_offsets_by_filename: the same heap sort, swap for swap */
function heapSort(names: NameTable): Uint32Array {
  const size = names.start.length;
  const idx = new Uint32Array(size);
  for (let i = 0; i < size; i++) idx[i] = i;
  if (size <= 1) return idx;
  const { buf, start, length } = names;
  // mz_zip_reader_filename_less: the folded comparison, a name that is a prefix of the other being less
  const less = (a: number, b: number) => {
    const x = idx[a];
    const y = idx[b];
    return compareRanges(buf, start[x], length[x], buf, start[y], length[y]) < 0;
  };
  const swap = (a: number, b: number) => {
    const t = idx[a];
    idx[a] = idx[b];
    idx[b] = t;
  };
  const siftDown = (root0: number, end: number) => {
    let root = root0;
    for (;;) {
      let child = root * 2 + 1;
      if (child >= end) break;
      if (child + 1 < end && less(child, child + 1)) child++;
      if (!less(root, child)) break;
      swap(root, child);
      root = child;
    }
  };
  for (let s = (size - 2) >>> 1; ; s--) {
    siftDown(s, size);
    if (s === 0) break;
  }
  for (let end = size - 1; end > 0; end--) {
    swap(end, 0);
    siftDown(0, end);
  }
  return idx;
}
