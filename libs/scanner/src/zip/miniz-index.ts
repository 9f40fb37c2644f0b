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
 * very entry torch reads. Names are compared as bytes.
 */

/** miniz's MZ_TOLOWER: ASCII letters only */
function fold(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/** mz_zip_reader_filename_less */
function filenameLess(l: Uint8Array, r: Uint8Array): boolean {
  const n = Math.min(l.length, r.length);
  let i = 0;
  let a = 0;
  let b = 0;
  for (; i < n; i++) {
    a = fold(l[i]);
    b = fold(r[i]);
    if (a !== b) break;
  }
  return i === n ? l.length < r.length : a < b;
}

/** mz_zip_filename_compare: <0, 0, >0 */
function filenameCompare(l: Uint8Array, r: Uint8Array): number {
  const n = Math.min(l.length, r.length);
  for (let i = 0; i < n; i++) {
    const a = fold(l[i]);
    const b = fold(r[i]);
    if (a !== b) return a - b;
  }
  return l.length - r.length;
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

  constructor(private readonly names: readonly Uint8Array[]) {
    this.sorted = heapSort(names);
  }

  /** the central-directory index miniz returns for `name`, or -1 (MZ_ZIP_FILE_NOT_FOUND) */
  locate(name: Uint8Array): number {
    const idx = this.sorted;
    let l = 0;
    let h = idx.length - 1;
    while (l <= h) {
      const m = l + ((h - l) >> 1);
      const fileIndex = idx[m];
      const comp = filenameCompare(this.names[fileIndex], name);
      if (comp === 0) return fileIndex;
      if (comp < 0) l = m + 1;
      else h = m - 1;
    }
    return -1;
  }
}

/** mz_zip_reader_sort_central_dir_offsets_by_filename: the same heap sort, swap for swap */
function heapSort(names: readonly Uint8Array[]): Uint32Array {
  const size = names.length;
  const idx = new Uint32Array(size);
  for (let i = 0; i < size; i++) idx[i] = i;
  if (size <= 1) return idx;
  const less = (a: number, b: number) => filenameLess(names[idx[a]], names[idx[b]]);
  const swap = (a: number, b: number) => {
    const t = idx[a];
    idx[a] = idx[b];
    idx[b] = t;
  };
  const siftDown = (start: number, end: number) => {
    let root = start;
    for (;;) {
      let child = root * 2 + 1;
      if (child >= end) break;
      if (child + 1 < end && less(child, child + 1)) child++;
      if (!less(root, child)) break;
      swap(root, child);
      root = child;
    }
  };
  for (let start = (size - 2) >>> 1; ; start--) {
    siftDown(start, size);
    if (start === 0) break;
  }
  for (let end = size - 1; end > 0; end--) {
    swap(end, 0);
    siftDown(0, end);
  }
  return idx;
}
