/**
 * Checks a folder version as a whole: each file judged as the code that reads it (the loader table), then what
 * no single file shows — an index naming files outside the folder or absent from it, tensors missing, repeated or
 * disagreeing across shards, DeepSpeed's `latest` naming a folder outside, code that trust_remote_code=True would
 * run. The version's verdict is the worst of its files and of these findings.
 */
import type { Finding, Format, ImportClass, ScanReport, Severity, Verdict } from '@brine/scanner';
import { dcpMetadataGlobal } from './dcp';
import type { DcpMetadata } from './dcp-metadata';
import { LAYOUTS, LOADER_FORMATS, loaderRowFor, type Layout, type Loader } from './loaders';
import { collisionKey, pathProblems, type ManifestEntry } from './manifest';

/** what checkFolder needs of one file's scan (libs/scanner's ScanReport carries it: see summariseScan) */
export interface FileScan {
  format: Format;
  verdict: Verdict;
  findings: Pick<Finding, 'severity' | 'rule' | 'module' | 'name' | 'message'>[];
  /** `class` as the scanner grades it (harmless: torch refuses it, Brine's vetted list proves it harmless) */
  imports: { module: string; name: string; class?: ImportClass }[];
  tensors: { name: string; dtype: string; shape: number[] }[];
  /** the scanner listed only some tensors */
  tensorsTruncated: boolean;
}

export type JsonInput = { value: unknown } | { error: string };

export interface FolderInputs {
  /** per file path: its scan (files read by json/text/python code need none) */
  scans: Readonly<Record<string, FileScan>>;
  /** per file path: the parsed JSON of the files the table reads as json */
  json?: Readonly<Record<string, JsonInput>>;
  /** per file path: the text of files the table reads as text (DeepSpeed's `latest`) */
  text?: Readonly<Record<string, string>>;
  /**
   * per .distcp path: the scans of its items, each the slice (offset, length) .metadata's storage_data gives it.
   * A .distcp is a run of torch.save outputs, not one file a loader opens whole: without its items it is unknown.
   */
  distcpItems?: Readonly<Record<string, readonly DistcpItemScan[]>>;
  /** per DCP .metadata path: what readDcpMetadata read from it, or why it could not */
  dcp?: Readonly<Record<string, { metadata: DcpMetadata } | { error: string }>>;
}

/** one .distcp item: which state-dict key and chunk .metadata says it is, and its scan */
export interface DistcpItemScan {
  fqn: string;
  chunkOffsets: number[] | null;
  scan: FileScan;
}

export interface FolderFinding {
  severity: Severity;
  rule: string;
  /** the file it is about, or null for the folder */
  path: string | null;
  message: string;
}

export interface FileResult {
  path: string;
  layout: Layout;
  /** null when no row of the table knows the file: it is judged by its scan alone */
  loader: Loader | null;
  pattern: string | null;
  why: string | null;
  format: Format | null;
  verdict: Verdict;
  findings: FolderFinding[];
}

export interface FolderReport {
  /** the folder's main layout (the most specific one its files show) */
  layout: Layout;
  layouts: Layout[];
  verdict: Verdict;
  files: FileResult[];
  /** findings about the folder as a whole (index, shards, latest, remote code) */
  findings: FolderFinding[];
}

const RANK: Record<Verdict, number> = { safe: 0, unknown: 1, suspicious: 2, dangerous: 3 };
const OF_SEVERITY: Record<Severity, Verdict> = {
  dangerous: 'dangerous',
  suspicious: 'suspicious',
  unknown: 'unknown',
  info: 'safe',
};

export function worst(verdicts: Iterable<Verdict>): Verdict {
  let w: Verdict = 'safe';
  for (const v of verdicts) if (RANK[v] > RANK[w]) w = v;
  return w;
}

/** the part of a scan report checkFolder reads */
export function summariseScan(r: ScanReport): FileScan {
  return {
    format: r.format,
    verdict: r.verdict,
    findings: r.findings.map(({ severity, rule, module, name, message }) => ({
      severity,
      rule,
      module,
      name,
      message,
    })),
    imports: r.imports.map(({ module, name, class: c }) => ({ module, name, class: c })),
    tensors: r.tensors.items.map(({ name, dtype, shape }) => ({ name, dtype, shape })),
    tensorsTruncated: r.tensors.truncated,
  };
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i + 1);
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Hugging Face shard indexes (model.safetensors.index.json, pytorch_model.bin.index.json, their variants) */
const INDEX = /\.(safetensors|bin)\.index\.json$/;

/** findings the scanner reports about what weights_only=True would refuse: moot for a loader that does not use it */
const WEIGHTS_ONLY_RULES = new Set(['weights-only-refused']);
/** findings about one global: superseded when the global is on DCP's list */
const GLOBAL_RULES = new Set([
  'import-not-allowed',
  'call-not-vetted',
  'import-suspicious',
  'import-dangerous',
]);

function verdictOf(findings: readonly { severity: Severity }[]): Verdict {
  return worst(findings.map((f) => OF_SEVERITY[f.severity]));
}

/** one file as its loader reads it */
function judgeFile(
  path: string,
  loader: Loader | null,
  scan: FileScan | undefined,
  expect: { loader: Loader; by: string } | null,
  json?: JsonInput,
): { verdict: Verdict; findings: FolderFinding[] } {
  const findings: FolderFinding[] = [];
  const add = (severity: Severity, rule: string, message: string): void => {
    findings.push({ severity, rule, path, message });
  };
  if (loader === 'json') {
    // JSON runs nothing, but an unread config hides its auto_map: never safe unread (indexes: see readIndex)
    if (INDEX.test(path)) return { verdict: 'safe', findings };
    if (json === undefined)
      add('unknown', 'json-unread', `${path} was not parsed, so what it names is unchecked`);
    else if ('error' in json) add('unknown', 'json-invalid', `${path} is not valid JSON: ${json.error}`);
    return { verdict: verdictOf(findings), findings };
  }
  if (loader === 'text') return { verdict: 'safe', findings };
  if (loader === 'python code') {
    add('suspicious', 'python-code', `${path} is Python code: whoever imports or runs it runs what it says`);
    return { verdict: 'suspicious', findings };
  }
  if (!scan) {
    add('unknown', 'not-scanned', `${path} has no scan, so nothing is known of it`);
    return { verdict: 'unknown', findings };
  }
  // what the content is must be what every reader expects: a pickle named .safetensors is read two ways
  for (const [l, by] of [[loader, 'its name'], ...(expect ? [[expect.loader, expect.by]] : [])] as Array<
    [Loader | null, string]
  >) {
    const formats = l ? LOADER_FORMATS[l] : null;
    if (formats && !formats.includes(scan.format))
      add(
        'dangerous',
        'format-mismatch',
        `${path} is ${scan.format === 'unknown' ? 'of no known format' : `a ${scan.format} file`}, but ${by} sends it to ${l}, ` +
          `which reads ${formats.join(' or ')}: two readings of one file disagree`,
      );
  }
  if (loader === 'pickle.load') {
    // DCP's .metadata: plain pickle.load runs any global it names, whatever weights_only says
    const foreign = scan.imports.filter((i) => !dcpMetadataGlobal(i.module, i.name));
    if (foreign.length > 0)
      add(
        'dangerous',
        'dcp-metadata-global',
        `${path} is read with plain pickle.load (torch/distributed/checkpoint/filesystem.py ` +
          `FileSystemReader.read_metadata) and imports ${foreign.map((i) => `${i.module}.${i.name}`).join(', ')}, ` +
          `none of DCP's metadata classes: loading the checkpoint runs it on any torch version, whatever weights_only says`,
      );
    for (const f of scan.findings) {
      if (WEIGHTS_ONLY_RULES.has(f.rule)) continue;
      if (
        GLOBAL_RULES.has(f.rule) &&
        f.module !== null &&
        f.name !== null &&
        dcpMetadataGlobal(f.module, f.name)
      )
        continue;
      // a global off the list is reported once, above
      if (GLOBAL_RULES.has(f.rule) && f.module !== null) continue;
      add(f.severity, f.rule, f.message);
    }
    return { verdict: verdictOf(findings), findings };
  }
  if (loader === 'torch.load(weights_only=False)' || loader === 'torch.load(default)') {
    // a full unpickle (torch.load's default before 2.6): what weights_only would refuse runs instead, and what
    // Brine's vetted list proves harmless stays harmless
    const harmless = new Set(
      scan.imports.filter((i) => i.class === 'harmless').map((i) => `${i.module}.${i.name}`),
    );
    for (const f of scan.findings) {
      if (WEIGHTS_ONLY_RULES.has(f.rule)) continue;
      if (f.rule === 'import-not-allowed' && harmless.has(`${f.module}.${f.name}`)) continue;
      add(f.severity, f.rule, f.message);
    }
    if (scan.verdict === 'unknown' && !findings.some((f) => f.severity === 'unknown'))
      add('unknown', 'scan-incomplete', `${path} could not be read completely`);
    const verdict = verdictOf(findings);
    if (verdict !== 'safe' && findings.some((f) => f.rule === 'import-not-allowed'))
      add(
        'info',
        'full-unpickle',
        `${path} is read with ${loader === 'torch.load(default)' ? "torch.load's default, a full unpickle before torch 2.6" : 'torch.load(weights_only=False)'}: ` +
          'the globals weights_only would refuse are imported and called instead',
      );
    return { verdict, findings };
  }
  // weights_only=True, safetensors, numpy, or no row: the scanner's verdict is the file's
  for (const f of scan.findings) add(f.severity, f.rule, f.message);
  return { verdict: worst([scan.verdict, verdictOf(findings)]), findings };
}

/** a .distcp: each item as read_data / load_bytes read it, held to the dtype and chunk size .metadata gives it */
function judgeDistcp(
  path: string,
  loader: Loader,
  items: readonly DistcpItemScan[] | undefined,
  metadata: DcpMetadata | null,
): { verdict: Verdict; findings: FolderFinding[] } {
  if (!items || items.length === 0)
    return {
      verdict: 'unknown',
      findings: [
        {
          severity: 'unknown',
          rule: 'distcp-items-unscanned',
          path,
          message: `${path}: its items (the slices .metadata's storage_data names) were not scanned`,
        },
      ],
    };
  const findings: FolderFinding[] = [];
  const tensors = new Map((metadata?.tensors ?? []).map((t) => [t.fqn, t]));
  for (const { fqn, chunkOffsets, scan } of items) {
    const label = `${path} item ${JSON.stringify(fqn)}`;
    for (const f of judgeFile(label, loader, scan, null).findings) findings.push({ ...f, path });
    const t = tensors.get(fqn);
    if (!t || chunkOffsets === null) continue;
    const chunk = t.chunks.find((c) => JSON.stringify(c.offsets) === JSON.stringify(chunkOffsets));
    const got = scan.tensors[0];
    if (
      !chunk ||
      !got ||
      scan.tensors.length !== 1 ||
      got.dtype !== t.dtype ||
      JSON.stringify(got.shape) !== JSON.stringify(chunk.sizes)
    )
      findings.push({
        severity: 'dangerous',
        rule: 'dcp-item-disagree',
        path,
        message:
          `${label}: .metadata says ${t.dtype}${JSON.stringify(chunk?.sizes ?? t.size)}, the item holds ` +
          `${scan.tensors.map((x) => `${x.dtype}${JSON.stringify(x.shape)}`).join(', ') || 'no tensor'}: two readings disagree`,
      });
  }
  return { verdict: verdictOf(findings), findings };
}

/** storage_data's ranges: plain paths inside the folder, files the version holds, bytes those files have */
function checkDcpStorage(
  path: string,
  metadata: DcpMetadata,
  sizes: Map<string, { path: string; size: number }>,
  out: FolderFinding[],
): void {
  const outside = new Set<string>();
  const missing = new Set<string>();
  for (const item of metadata.items) {
    // read_data opens fs.concat_path(self.path, relative_path): a ".." or absolute path leaves the checkpoint
    if (pathProblems(item.relativePath).length > 0) {
      outside.add(item.relativePath);
      continue;
    }
    const file = sizes.get(collisionKey(dirOf(path) + item.relativePath));
    if (!file) {
      missing.add(item.relativePath);
      continue;
    }
    if (item.offset < 0 || item.length < 0 || item.offset + item.length > file.size)
      out.push({
        severity: 'unknown',
        rule: 'dcp-storage-range',
        path,
        message: `${path}: item ${JSON.stringify(item.fqn)} is bytes ${item.offset}..${item.offset + item.length} of ${file.path}, which has ${file.size}`,
      });
  }
  if (outside.size > 0)
    out.push({
      severity: 'dangerous',
      rule: 'dcp-storage-outside',
      path,
      message:
        `${path}'s storage_data names ${[...outside].map((s) => JSON.stringify(s)).join(', ')}: not a plain relative path inside the ` +
        'checkpoint — FileSystemReader.read_data joins it to the folder and would read a file outside it',
    });
  if (missing.size > 0)
    out.push({
      severity: 'suspicious',
      rule: 'dcp-storage-missing',
      path,
      message: `${path}'s storage_data names ${[...missing].map((s) => JSON.stringify(s)).join(', ')}, which the version does not hold`,
    });
}

interface IndexInfo {
  path: string;
  loader: Loader;
  /** tensor -> shard path (resolved inside the folder) */
  map: Map<string, string>;
}

/** the weight_map of an HF index, its shards resolved against the index's folder; findings for what is wrong */
function readIndex(
  path: string,
  input: JsonInput | undefined,
  present: Map<string, string>,
  out: FolderFinding[],
): IndexInfo | null {
  const add = (severity: Severity, rule: string, message: string): void => {
    out.push({ severity, rule, path, message });
  };
  if (!input) {
    add('unknown', 'index-unread', `${path} was not parsed, so the shards it names are unchecked`);
    return null;
  }
  if ('error' in input) {
    add(
      'unknown',
      'index-unread',
      `${path} is not valid JSON (${input.error}): transformers cannot load the model`,
    );
    return null;
  }
  const v = input.value as { weight_map?: unknown } | null;
  const wm = typeof v === 'object' && v !== null ? v.weight_map : undefined;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) {
    add('unknown', 'index-malformed', `${path} has no weight_map object mapping tensor names to shard files`);
    return null;
  }
  const loader: Loader = path.endsWith('.safetensors.index.json')
    ? 'safetensors'
    : 'torch.load(weights_only=True)';
  const map = new Map<string, string>();
  const outside = new Set<string>();
  const missing = new Set<string>();
  for (const [tensor, shard] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof shard !== 'string') {
      add('unknown', 'index-malformed', `${path}: weight_map[${JSON.stringify(tensor)}] is not a file name`);
      continue;
    }
    // transformers joins the value to the folder (os.path.join): "../x" leaves it, "/etc/x" replaces it
    if (pathProblems(shard).length > 0) {
      outside.add(shard);
      continue;
    }
    const full = dirOf(path) + shard;
    const real = present.get(collisionKey(full));
    if (!real) {
      missing.add(shard);
      continue;
    }
    map.set(tensor, real);
  }
  if (outside.size > 0)
    add(
      'dangerous',
      'index-outside',
      `${path} names ${[...outside].map((s) => JSON.stringify(s)).join(', ')}: not a plain relative path inside the ` +
        'folder — transformers joins it to the folder and would read a file outside it',
    );
  if (missing.size > 0)
    add(
      'suspicious',
      'index-missing-shard',
      `${path} names ${[...missing].map((s) => JSON.stringify(s)).join(', ')}, which the version does not hold: ` +
        'loading fails, or reads whatever file of that name is beside the folder',
    );
  return { path, loader, map };
}

/** every tensor once across the shards, each where the index says, the same name never two shapes */
function checkShards(
  index: IndexInfo,
  scans: Readonly<Record<string, FileScan>>,
  out: FolderFinding[],
): void {
  const add = (severity: Severity, rule: string, message: string): void => {
    out.push({ severity, rule, path: index.path, message });
  };
  const shards = [...new Set(index.map.values())].sort();
  const where = new Map<string, { shard: string; dtype: string; shape: number[] }[]>();
  let complete = true;
  for (const shard of shards) {
    const s = scans[shard];
    if (!s || s.tensorsTruncated) {
      complete = false;
      continue;
    }
    for (const t of s.tensors) {
      const list = where.get(t.name) ?? [];
      list.push({ shard, dtype: t.dtype, shape: t.shape });
      where.set(t.name, list);
    }
  }
  for (const [name, list] of where) {
    if (list.length > 1) {
      const shapes = new Set(list.map((l) => `${l.dtype}${JSON.stringify(l.shape)}`));
      add(
        'dangerous',
        'tensor-repeated',
        `tensor ${JSON.stringify(name)} is in ${list.map((l) => l.shard).join(' and ')}` +
          (shapes.size > 1 ? ` with different dtypes or shapes (${[...shapes].join(' vs ')})` : '') +
          ': which one a model gets depends on the order the shards load — two readings disagree',
      );
    }
    const mapped = index.map.get(name);
    if (mapped === undefined)
      add(
        'suspicious',
        'tensor-unindexed',
        `tensor ${JSON.stringify(name)} is in ${list[0].shard} but not in the index's weight_map: loaders that ` +
          'trust the index do not expect it',
      );
    else if (!list.some((l) => l.shard === mapped))
      add(
        'dangerous',
        'index-shard-disagree',
        `the index puts tensor ${JSON.stringify(name)} in ${mapped}, but it is in ${list.map((l) => l.shard).join(', ')}`,
      );
  }
  if (!complete) return;
  const absent = [...index.map.keys()].filter((t) => !where.has(t));
  if (absent.length > 0)
    add(
      'suspicious',
      'tensor-missing',
      `the index lists ${absent.length} tensor(s) no shard holds (${absent
        .slice(0, 5)
        .map((t) => JSON.stringify(t))
        .join(', ')}${absent.length > 5 ? ', …' : ''})`,
    );
}

/** config.json's auto_map (and any config's), and every shipped .py: what trust_remote_code=True would import */
function remoteCode(
  manifest: readonly ManifestEntry[],
  json: Readonly<Record<string, JsonInput>>,
  present: Map<string, string>,
  out: FolderFinding[],
): void {
  const pyFiles = manifest.map((e) => e.path).filter((p) => p.endsWith('.py'));
  const named = new Set<string>();
  const reasons: string[] = [];
  for (const [path, input] of Object.entries(json).sort()) {
    if (!('value' in input)) continue;
    const v = input.value as { auto_map?: unknown } | null;
    const am = typeof v === 'object' && v !== null ? v.auto_map : undefined;
    if (am === undefined) continue;
    if (typeof am !== 'object' || am === null || Array.isArray(am)) {
      out.push({
        severity: 'suspicious',
        rule: 'remote-code',
        path,
        message: `${path} has an auto_map that is not an object`,
      });
      continue;
    }
    for (const [auto, ref] of Object.entries(am as Record<string, unknown>)) {
      for (const r of Array.isArray(ref) ? ref : [ref]) {
        if (r === null) continue;
        if (typeof r !== 'string') continue;
        // "module.Class", or "other/repo--module.Class": code from another repository
        const [repo, cls] = r.includes('--') ? r.split('--', 2) : [null, r];
        const module = cls.split('.')[0];
        const file = dirOf(path) + module + '.py';
        if (repo) reasons.push(`${path} auto_map ${auto} -> ${r} (${module}.py from the repository ${repo})`);
        else {
          const real = present.get(collisionKey(file));
          reasons.push(
            `${path} auto_map ${auto} -> ${r} (${real ?? `${file}, which the version does not hold`})`,
          );
          if (real) named.add(real);
        }
      }
    }
  }
  const files = [...new Set([...named, ...pyFiles])].sort();
  if (reasons.length === 0 && files.length === 0) return;
  out.push({
    severity: 'suspicious',
    rule: 'remote-code',
    path: null,
    message:
      `loading this folder with trust_remote_code=True would run ${files.length > 0 ? files.join(', ') : 'code from elsewhere'}` +
      (reasons.length > 0 ? ` (${reasons.join('; ')})` : ' (shipped Python files)') +
      ': Brine does not judge code; read it before trusting it',
  });
}

/** DeepSpeed's latest: a tag joined to the checkpoint folder, so a plain name of a folder the version holds */
function latestTag(
  path: string,
  text: string | undefined,
  present: Map<string, string>,
  out: FolderFinding[],
): void {
  if (text === undefined) {
    out.push({
      severity: 'unknown',
      rule: 'latest-unread',
      path,
      message: `${path} was not read, so the tag it names is unchecked`,
    });
    return;
  }
  const tag = text.trim();
  if (tag === '' || pathProblems(tag).length > 0 || tag.includes('/')) {
    out.push({
      severity: 'dangerous',
      rule: 'latest-outside',
      path,
      message: `${path} names ${JSON.stringify(tag)}: DeepSpeed joins it to the checkpoint folder (engine.py load_checkpoint), so it must be the plain name of a folder inside`,
    });
    return;
  }
  const folder = collisionKey(dirOf(path) + tag + '/');
  if (![...present.keys()].some((k) => k.startsWith(folder)))
    out.push({
      severity: 'suspicious',
      rule: 'latest-missing',
      path,
      message: `${path} names ${JSON.stringify(tag)}, a folder the version does not hold`,
    });
}

/**
 * Judges a folder version: the layout, each file's loader and verdict, and the folder's own findings. The
 * manifest must have passed checkManifest.
 */
export function checkFolder(manifest: readonly ManifestEntry[], inputs: FolderInputs): FolderReport {
  const json = inputs.json ?? {};
  const text = inputs.text ?? {};
  const present = new Map(manifest.map((e) => [collisionKey(e.path), e.path]));
  const findings: FolderFinding[] = [];

  const indexes: IndexInfo[] = [];
  for (const e of manifest) {
    if (!INDEX.test(e.path)) continue;
    const idx = readIndex(e.path, json[e.path], present, findings);
    if (idx) indexes.push(idx);
  }
  /** what an index makes of the files it names: transformers reads them with the index's loader, whatever their name */
  const expectBy = new Map<string, { loader: Loader; by: string }>();
  for (const idx of indexes)
    for (const shard of idx.map.values()) expectBy.set(shard, { loader: idx.loader, by: idx.path });

  const files: FileResult[] = manifest.map((e) => {
    const row = loaderRowFor(e.path);
    const scan = inputs.scans[e.path];
    const expect = expectBy.get(e.path) ?? null;
    const items = inputs.distcpItems?.[e.path];
    const meta = inputs.dcp?.[dirOf(e.path) + '.metadata'];
    const judged =
      row?.layout === 'dcp' && e.path.endsWith('.distcp')
        ? judgeDistcp(e.path, row.loader, items, meta && 'metadata' in meta ? meta.metadata : null)
        : judgeFile(
            e.path,
            row?.loader ?? null,
            scan,
            expect && expect.loader !== row?.loader ? expect : null,
            json[e.path],
          );
    return {
      path: e.path,
      layout: row?.layout ?? 'plain',
      loader: row?.loader ?? null,
      pattern: row?.pattern ?? null,
      why: row?.why ?? null,
      format: scan?.format ?? null,
      verdict: judged.verdict,
      findings: judged.findings,
    };
  });

  for (const idx of indexes) checkShards(idx, inputs.scans, findings);
  for (const f of files)
    if (baseOf(f.path) === 'latest' && f.layout === 'deepspeed')
      latestTag(f.path, text[f.path], present, findings);
  const dcpDirs = new Set(files.filter((f) => f.path.endsWith('.distcp')).map((f) => dirOf(f.path)));
  for (const d of dcpDirs)
    if (!present.has(collisionKey(d + '.metadata')))
      findings.push({
        severity: 'unknown',
        rule: 'dcp-no-metadata',
        path: d || null,
        message: `${d || 'the folder'} holds .distcp files but no .metadata: DCP cannot load it and its items are unchecked`,
      });
  const sizes = new Map(manifest.map((e) => [collisionKey(e.path), { path: e.path, size: e.size }]));
  for (const [path, m] of Object.entries(inputs.dcp ?? {}).sort())
    if ('metadata' in m) checkDcpStorage(path, m.metadata, sizes, findings);
    else
      findings.push({
        severity: 'unknown',
        rule: 'dcp-metadata-unread',
        path,
        message: `${path} could not be read: ${m.error}`,
      });
  remoteCode(manifest, json, present, findings);

  const layouts = LAYOUTS.filter((l) => files.some((f) => f.layout === l));
  const layout = layouts.find((l) => l !== 'plain') ?? 'plain';
  const verdict = worst([...files.map((f) => f.verdict), ...findings.map((f) => OF_SEVERITY[f.severity])]);
  return { layout, layouts: layouts.length > 0 ? layouts : ['plain'], verdict, files, findings };
}
