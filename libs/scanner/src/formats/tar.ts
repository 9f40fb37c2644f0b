import {
  findTarMember,
  isTarLink,
  normpath,
  TAR_REGULAR_TYPES,
  TAR_SUPPORTED_TYPES,
  tarDataFilter,
  tarDataFilterApplies,
  tarLinkTarget,
  type TarListing,
  type TarMember,
} from '@brine/archives';

/**
 * What torch's legacy tar loader does with tarfile's listing (the listing itself is @brine/archives' port of
 * CPython's tarfile).
 */

/** the bytes torch reads for one member: a range of the file, or why it reads something else or nothing */
export type TorchTarRead =
  | { kind: 'data'; name: string; member: TarMember; offset: number; size: number; via: string | null }
  | { kind: 'missing'; name: string }
  /**
   * not plain bytes of this archive: `fails` (torch.load raises), `fallback` (a TarError: torch reads the file
   * as pickles instead) or `elsewhere` (torch reads a file outside the archive, a device, or a sparse map)
   */
  | {
      kind: 'special';
      name: string;
      member: TarMember;
      what: string;
      outcome: 'fails' | 'fallback' | 'elsewhere';
    };

const escapes = (linkname: string) =>
  linkname.startsWith('/') || normpath(linkname) === '..' || normpath(linkname).startsWith('../');

/**
 * What torch's legacy tar loader reads for `storages` and `tensors` (tar.extract into a fresh temporary folder,
 * then open) and for `pickle` (tar.extractfile): the last member of that name, links followed as tarfile and the
 * file system follow them, 3.14's extraction filter applied. `extracted` holds what earlier extractions left in
 * the temporary folder (a link to `storages` reads those bytes).
 */
export function torchTarRead(
  listing: TarListing,
  name: 'storages' | 'tensors' | 'pickle',
  extracted: ReadonlyMap<string, TorchTarRead>,
  fileSize: number,
): TorchTarRead {
  const members = listing.members;
  const m = findTarMember(members, name, members.length, false);
  if (!m) return { kind: 'missing', name };
  const special = (
    cur: TarMember,
    what: string,
    outcome: 'fails' | 'fallback' | 'elsewhere',
  ): TorchTarRead => ({
    kind: 'special',
    name,
    member: cur,
    what,
    outcome,
  });
  const data = (cur: TarMember, via: string | null): TorchTarRead => ({
    kind: 'data',
    name,
    member: cur,
    offset: cur.offsetData,
    size: Math.max(0, Math.min(cur.size, fileSize - cur.offsetData)),
    via,
  });
  const kindOf = (cur: TarMember) =>
    cur.type === '5'
      ? 'a directory'
      : cur.type === '6'
        ? 'a FIFO'
        : cur.type === '3'
          ? 'a character device'
          : cur.type === '4'
            ? 'a block device'
            : `a member of type "${cur.type}"`;

  if (name === 'pickle') {
    // extractfile: regular and unknown types give their data, links their target's, anything else None
    let cur = m;
    let via: string | null = null;
    for (let hops = 0; hops < 16; hops++) {
      if (cur.sparse) return special(cur, 'a GNU sparse member', 'elsewhere');
      if (TAR_REGULAR_TYPES.has(cur.type) || !TAR_SUPPORTED_TYPES.has(cur.type)) return data(cur, via);
      if (!isTarLink(cur)) return special(cur, kindOf(cur), 'fails');
      const t = tarLinkTarget(members, cur);
      if (!t) return special(cur, `a link to "${cur.linkname}", which the archive lacks`, 'fails');
      via ??= cur.name;
      cur = t;
    }
    return special(cur, 'a chain of links', 'fails');
  }

  if (tarDataFilterApplies(listing.python)) {
    const refused = tarDataFilter(m);
    if (refused) return special(m, `${kindOf(m)} (tarfile's data filter raises ${refused})`, 'fallback');
  }
  // _extract_member into the temporary folder
  let cur = m;
  let via: string | null = null;
  for (let hops = 0; hops < 16; hops++) {
    if (cur.sparse) return special(cur, 'a GNU sparse member', 'elsewhere');
    if (TAR_REGULAR_TYPES.has(cur.type) || !TAR_SUPPORTED_TYPES.has(cur.type)) {
      // copyfileobj raises ReadError("unexpected end of data") when the data is cut short
      if (cur.offsetData + cur.size > fileSize)
        return special(cur, `${cur.size} bytes of data that the file does not hold`, 'fallback');
      return data(cur, via);
    }
    if (cur.type === '5') return special(cur, 'a directory', 'fails');
    if (!isTarLink(cur)) return special(cur, kindOf(cur), 'elsewhere');
    if (escapes(cur.linkname))
      return special(cur, `a link to "${cur.linkname}", outside the archive`, 'elsewhere');
    const inFolder = extracted.get(normpath(cur.linkname));
    if (inFolder && inFolder.kind === 'data') return { ...inFolder, name, via: cur.name };
    if (cur.type === '2')
      return special(cur, `a symbolic link to "${cur.linkname}", which does not exist`, 'fails');
    const t = tarLinkTarget(members, cur);
    if (!t) return special(cur, `a hard link to "${cur.linkname}", which the archive lacks`, 'fails');
    via ??= cur.name;
    cur = t;
  }
  return special(cur, 'a chain of links', 'fails');
}
