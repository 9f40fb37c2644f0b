import {
  api,
  ApiError,
  enc,
  ENDPOINTS,
  TORCH_VERSIONS,
  type Finding,
  type ImportRecord,
  type ScanReport,
  type TorchVersion,
  type VersionRecord,
} from '../api.js';
import { h, listTable, mount } from '../dom.js';
import { badge, bytes, count, num, sha, short, statusOf, timeEl, tokenRef } from '../format.js';
import type { PageContext } from '../page-context.js';
import { cardSection } from '../card.js';

const RANK: Record<Finding['severity'], number> = { dangerous: 3, suspicious: 2, unknown: 1, info: 0 };
const TENSOR_PAGE = 100;

/** one version's scan report */
export async function reportPage(ctx: PageContext): Promise<void> {
  const [name, version] = ctx.params;
  const params = { name, version };
  let v = await api(ENDPOINTS.getVersion, { params });
  const children = await childrenOf(name, version);

  const head = () => [
    h(
      'nav',
      { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: '#/' }, 'Checkpoints'),
      ' / ',
      h('a', { href: `#/checkpoints/${enc(name)}` }, name),
      ' / ',
      version,
    ),
    h('h1', null, `${name}:${version} `, badge(statusOf(v))),
    h(
      'p',
      { class: 'muted facts' },
      `${bytes(v.size)} · SHA-256 `,
      sha(v.sha256),
      ' · uploaded ',
      timeEl(v.createdAt),
      v.uploadedBy ? [' by ', tokenRef(v.uploadedBy)] : '',
      v.filename ? ` · ${v.filename}` : '',
      v.tags.length ? ' · tags ' : '',
      v.tags.map((t) => h('span', { class: `tag${t === 'best' ? ' best' : ''}` }, t)),
    ),
    lineageLine(name, v, children),
    metricsTable(v),
  ];

  if (v.scan.status === 'pending' || v.scan.status === 'scanning') {
    mount(
      ctx.main,
      head(),
      h(
        'div',
        { class: 'banner pending', role: 'status', 'aria-live': 'polite' },
        h('strong', null, v.scan.status === 'scanning' ? 'Scanning now. ' : 'Waiting for a scan worker. '),
        'The report appears here as soon as the scan finishes; this page updates by itself.',
      ),
      downloadSection(name, version, v, ctx),
    );
    ctx.every(1000, async () => {
      v = await api(ENDPOINTS.getVersion, { params });
      if (v.scan.status === 'done' || v.scan.status === 'failed') {
        await reportPage(ctx);
        return false;
      }
    });
    return;
  }
  if (v.scan.status === 'failed') {
    mount(
      ctx.main,
      head(),
      h(
        'div',
        { class: 'banner unknown', role: 'status' },
        h('strong', null, 'The scan failed, so nothing is known about this file. '),
        v.scan.error ?? '',
        ' Treat it as unsafe; an admin can rescan it.',
      ),
      downloadSection(name, version, v, ctx),
    );
    return;
  }

  // the contract declares the report as a JSON object; its shape is the scanner's ScanReport
  const report = (await api(ENDPOINTS.report, { params })) as unknown as ScanReport;
  if (ctx.left) return;
  mount(
    ctx.main,
    head(),
    banner(report),
    downloadSection(name, version, v, ctx),
    cardSection(api(ENDPOINTS.getVersionCard, { params }), v.metadata),
    matrix(report),
    recipeSection(report),
    findingsSection(report.findings),
    importsSection(report.imports),
    tensorsSection(report),
  );
}

const LEAD: Record<ScanReport['verdict'], string> = {
  safe: 'Safe to load: torch.load(weights_only=True) accepts this file and nothing in it would run code.',
  suspicious:
    'Not safe to load as it is: it names Python objects outside the weights-only allowlist, which an unrestricted load would import and run.',
  dangerous:
    'Dangerous: loading this file with torch.load (weights_only=False) would run code an attacker chose.',
  unknown:
    'Unknown: Brine could not read this file to the end, so nothing vouches for it. Treat it as unsafe.',
};

function banner(r: ScanReport): HTMLElement {
  return h(
    'div',
    { class: `banner ${r.verdict}`, role: 'status', 'data-verdict': r.verdict },
    h('strong', null, LEAD[r.verdict]),
    ' ',
    r.summary,
    h('div', { class: 'muted' }, `${r.format} · ${r.kind}`),
  );
}

function matrix(r: ScanReport): HTMLElement {
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'wo-h' },
    h('h2', { id: 'wo-h' }, 'torch.load(weights_only=True), version by version'),
    listTable(
      ['PyTorch', 'Loads?', 'Why not', 'Fix'],
      h(
        'tbody',
        null,
        TORCH_VERSIONS.map((t) => {
          const x = r.weightsOnly.byVersion[t];
          return h(
            'tr',
            { 'data-torch': t },
            h(
              'th',
              { scope: 'row' },
              t,
              t === r.weightsOnly.target ? h('span', { class: 'muted' }, ' (target)') : null,
            ),
            h(
              'td',
              null,
              h('span', { class: `wo-cell ${x.loads ? 'yes' : 'no'}` }, x.loads ? '✓ loads' : '✗ refuses'),
            ),
            h(
              'td',
              null,
              x.reason ? h('code', { class: 'reason' }, x.reason) : '—',
              x.uncertain ? h('span', { class: 'muted' }, ' (approximate)') : null,
            ),
            h('td', { class: 'fix' }, x.loads ? '—' : fixFor(r, t)),
          );
        }),
      ),
      { class: 'matrix' },
    ),
  );
}

/** the code that loads this file safely on a chosen torch version (or why nothing does), with a copy button */
function recipeSection(r: ScanReport): HTMLElement {
  const body = h('div', { id: 'recipe' });
  const status = h('span', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const select = h(
    'select',
    { id: 'recipe-torch', 'aria-label': 'PyTorch version' },
    TORCH_VERSIONS.map((t) =>
      h(
        'option',
        { value: t, selected: t === r.weightsOnly.target },
        `torch ${t}${r.howToLoad[t].loads ? '' : ' — no safe way'}`,
      ),
    ),
  );
  const show = () => {
    const recipe = r.howToLoad[select.value as TorchVersion];
    status.textContent = '';
    const copy = h('button', { type: 'button', id: 'recipe-copy' }, 'Copy');
    copy.addEventListener('click', () => {
      const text = recipe.code ?? '';
      navigator.clipboard
        .writeText(text)
        .then(() => (status.textContent = 'Copied.'))
        .catch(() => {
          // no clipboard permission (an http origin other than localhost): select the code to copy by hand
          const range = document.createRange();
          range.selectNodeContents(code);
          getSelection()?.removeAllRanges();
          getSelection()?.addRange(range);
          status.textContent = 'Selected: press Ctrl+C to copy.';
        });
    });
    const code = h('code', null, recipe.code ?? '');
    mount(
      body,
      recipe.code !== null
        ? [
            h('pre', { class: 'recipe', 'data-loads': String(recipe.loads) }, code),
            h('div', { class: 'actions' }, copy, ' ', status),
          ]
        : null,
      recipe.notes.length
        ? h(
            'ul',
            { class: recipe.loads ? 'notes muted' : 'notes no-way' },
            recipe.notes.map((n) => h('li', null, n)),
          )
        : null,
      recipe.ifTrusted
        ? h(
            'div',
            { class: 'if-trusted' },
            h(
              'p',
              null,
              `Only if you trust ${recipe.ifTrusted.trust.join(', ')} (code Brine cannot vouch for):`,
            ),
            h('pre', { class: 'recipe', 'data-loads': 'if-trusted' }, h('code', null, recipe.ifTrusted.code)),
          )
        : null,
    );
  };
  select.addEventListener('change', show);
  show();
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'recipe-h' },
    h('h2', { id: 'recipe-h' }, 'How to load it'),
    h('p', null, h('label', null, 'For ', select), ' '),
    body,
  );
}

/**
 * What gets torch `t` past a refusal, in the recipe's own terms (the scanner's recipe for `t`), so the table and
 * "How to load it" never disagree: the globals the recipe allows, the names it asks you to trust, or why nothing
 * does it on that version (torch 1.13, for one, has no way to allow more globals).
 */
function fixFor(r: ScanReport, t: TorchVersion): Array<Node | string> {
  const recipe = r.howToLoad[t];
  const allow = (globals: string[]) => [
    'allow ',
    h('code', null, globals.join(', ')),
    ' with torch.serialization.safe_globals, as under How to load it',
  ];
  if (recipe.loads)
    return recipe.safeGlobals.length ? allow(recipe.safeGlobals) : ['load it as under How to load it'];
  if (recipe.ifTrusted)
    return [
      h('span', { class: 'muted' }, `only if you trust ${recipe.ifTrusted.trust.join(', ')}: `),
      ...allow(recipe.ifTrusted.safeGlobals),
    ];
  return [h('span', { class: 'muted' }, recipe.notes[0] ?? 'no safe way on this version')];
}

function where(entry: string | null, offset: number | null): string {
  return `${entry ?? '(file)'}${offset === null ? '' : ` @ ${offset}`}`;
}

function findingsSection(findings: Finding[]): HTMLElement {
  const sorted = [...findings].sort((a, b) => RANK[b.severity] - RANK[a.severity]);
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'findings-h' },
    h('h2', { id: 'findings-h' }, `Findings (${findings.length})`),
    sorted.length
      ? h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            { class: 'list findings' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ['Severity', 'What', 'Module', 'Name', 'Opcode', 'Entry', 'Offset', 'Rule'].map((t) =>
                  h('th', { scope: 'col' }, t),
                ),
              ),
            ),
            h(
              'tbody',
              null,
              sorted.map((f) =>
                h(
                  'tr',
                  { class: `sev-${f.severity}`, 'data-severity': f.severity },
                  h(
                    'td',
                    null,
                    h('span', { class: `badge ${f.severity === 'info' ? 'info' : f.severity}` }, f.severity),
                  ),
                  h('td', null, f.message),
                  h('td', null, f.module ? h('code', null, f.module) : '—'),
                  h('td', null, f.name ? h('code', null, f.name) : '—'),
                  h('td', null, f.opcode ?? '—'),
                  h('td', { class: 'entry' }, f.entry ?? '(file)'),
                  h('td', { class: 'num offset' }, f.offset === null ? '—' : String(f.offset)),
                  h('td', null, h('code', { class: 'muted' }, f.rule)),
                ),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'Nothing to report.'),
  );
}

function importsSection(imports: ImportRecord[]): HTMLElement {
  const groups: Array<[ImportRecord['class'], string]> = [
    ['dangerous', 'Dangerous: runs code, or called without being known to be harmless'],
    ['suspicious', "Suspicious: code Brine cannot vouch for (yours, a package's, or not called)"],
    ['harmless', "Harmless: refused by torch by default, on Brine's vetted list"],
    ['allowed', 'Safe: on the weights-only allowlist'],
  ];
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'imports-h' },
    h('h2', { id: 'imports-h' }, `Imports (${imports.length})`),
    imports.length === 0 ? h('p', { class: 'muted' }, 'This file imports nothing.') : null,
    groups.map(([cls, title]) => {
      const list = imports.filter((i) => i.class === cls);
      if (!list.length) return null;
      return h(
        'div',
        { class: `imports ${cls}`, 'data-class': cls },
        h('h3', null, `${title} (${list.length})`),
        h(
          'ul',
          null,
          list.map((i) =>
            h(
              'li',
              null,
              h('code', null, `${i.module}.${i.name}`),
              h(
                'span',
                { class: 'muted' },
                ` ×${i.count}${i.calls.length ? `, called by ${i.calls.join(', ')}` : ''} · first at ${where(i.first.entry, i.first.offset)} (${i.first.opcode})`,
              ),
              i.reason ? h('div', { class: 'reason' }, i.reason) : null,
            ),
          ),
        ),
      );
    }),
  );
}

function tensorsSection(r: ScanReport): HTMLElement {
  const t = r.tensors;
  let shown = TENSOR_PAGE;
  const body = h('tbody');
  const more = h('button', { type: 'button', class: 'more' }, 'Show more tensors');
  const draw = () => {
    mount(
      body,
      t.items
        .slice(0, shown)
        .map((x) =>
          h(
            'tr',
            null,
            h('td', null, h('code', null, x.name)),
            h('td', null, x.dtype),
            h('td', null, `[${x.shape.join(', ')}]`),
            h('td', { class: 'num' }, count(x.numel)),
            h('td', { class: 'num' }, bytes(x.bytes)),
          ),
        ),
    );
    more.hidden = shown >= t.items.length;
  };
  more.addEventListener('click', () => {
    shown += TENSOR_PAGE;
    draw();
  });
  draw();
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'tensors-h' },
    h('h2', { id: 'tensors-h' }, 'Tensors'),
    h(
      'p',
      { class: 'totals' },
      `${count(t.count)} tensors · ${short(t.parameters)} parameters (${count(t.parameters)}) · ${bytes(t.bytes)}`,
      Object.keys(t.byDtype).length
        ? ` · ${Object.entries(t.byDtype)
            .map(([d, x]) => `${d}: ${x.count}`)
            .join(', ')}`
        : '',
    ),
    t.items.length
      ? listTable(['Name', 'dtype', 'Shape', 'Elements', 'Bytes'], body, { class: 'tensors' })
      : h('p', { class: 'muted' }, 'No tensors.'),
    t.truncated
      ? h('p', { class: 'muted' }, 'The scanner listed the first tensors only; the totals count all of them.')
      : null,
    t.items.length ? more : null,
  );
}

/** a version whose lineage parent is this one, in any checkpoint */
interface Child {
  name: string;
  version: string;
}

/**
 * The versions, in every checkpoint, whose lineage parent is this version (written any way it can be: the API
 * matches VERSION, NAME:VERSION and NAME/VERSION), oldest first: one `GET /checkpoints?parent=NAME:VERSION`.
 */
async function childrenOf(name: string, version: string): Promise<Child[]> {
  const found = await api(ENDPOINTS.listCheckpoints, { query: { parent: `${name}:${version}`, limit: 500 } });
  return (found.matches ?? [])
    .map((m) => ({ name: m.name, version: m.version, at: m.createdAt }))
    .sort((a, b) => a.at.localeCompare(b.at))
    .map(({ name: n, version: v }) => ({ name: n, version: v }));
}

/** the version's metrics, at 4 significant digits (the exact value as the title) */
function metricsTable(v: VersionRecord): HTMLElement | null {
  const metrics = Object.entries(v.metrics).sort(([a], [b]) => a.localeCompare(b));
  if (!metrics.length) return null;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'metrics-h' },
    h('h2', { id: 'metrics-h' }, 'Metrics'),
    h(
      'table',
      { class: 'list metrics-table', id: 'metrics' },
      h(
        'tbody',
        null,
        metrics.map(([k, x]) =>
          h('tr', null, h('th', { scope: 'row' }, k), h('td', { class: 'num', title: String(x) }, num(x))),
        ),
      ),
    ),
  );
}

/** where the version came from (parent, commit, run, dataset), when the upload said, and what came from it */
function lineageLine(name: string, v: VersionRecord, children: Child[]): HTMLElement | null {
  const l = v.lineage;
  if (!l.parent && !l.gitCommit && !l.runUrl && !l.dataset && !children.length) return null;
  const parent = l.parent ? (l.parent.includes(':') ? l.parent.split(':') : [name, l.parent]) : null;
  const parts: Array<Node | string> = [];
  const add = (label: string, value: Node | string) => {
    if (parts.length) parts.push(' · ');
    parts.push(`${label} `, value);
  };
  if (parent)
    add(
      'from',
      h('a', { href: `#/checkpoints/${enc(parent[0])}/${enc(parent[1])}`, id: 'lineage-parent' }, l.parent!),
    );
  if (l.gitCommit) add('commit', h('code', { title: l.gitCommit }, l.gitCommit.slice(0, 12)));
  if (l.runUrl)
    add(
      'run',
      h('a', { href: l.runUrl, rel: 'noopener noreferrer', target: '_blank' }, new URL(l.runUrl).host),
    );
  if (l.dataset) add('dataset', l.dataset);
  if (children.length)
    add(
      children.length === 1 ? 'child' : 'children',
      h(
        'span',
        { id: 'lineage-children' },
        children.flatMap((c, i) => [
          i ? ', ' : '',
          h(
            'a',
            { href: `#/checkpoints/${enc(c.name)}/${enc(c.version)}` },
            c.name === name ? c.version : `${c.name}:${c.version}`,
          ),
        ]),
      ),
    );
  return h('p', { class: 'muted', id: 'lineage' }, 'Lineage: ', ...parts);
}

/** the safetensors twin of a safe version: its download, or where its conversion stands */
function twinPart(v: VersionRecord, download: () => void): HTMLElement | null {
  const t = v.twin;
  if (!t) return null;
  if (t.status === 'done' && t.file) {
    const b = h(
      'button',
      { type: 'button', class: 'primary', id: 'download-twin' },
      `Download safetensors (${bytes(t.size ?? 0)})`,
    );
    b.addEventListener('click', download);
    const notes = [
      `${t.tensors ?? 0} tensors, loads without unpickling`,
      Object.keys(t.aliases).length ? `${Object.keys(t.aliases).length} tied weight(s) stored once` : '',
      t.leftOut.length ? `left out: ${t.leftOut.map((x) => `${x.key} (${x.reason})`).join(', ')}` : '',
    ].filter(Boolean);
    return h('span', { class: 'twin' }, b, ' ', h('small', { id: 'twin-notes' }, notes.join(' · ')));
  }
  const why =
    t.status === 'pending' || t.status === 'converting'
      ? 'safetensors twin: being written…'
      : `no safetensors twin: ${t.error ?? t.status}`;
  return h('small', { id: 'twin-notes' }, why);
}

/** the download: straight away for a safe file, after an explicit acknowledgement otherwise */
function downloadSection(name: string, version: string, v: VersionRecord, ctx: PageContext): HTMLElement {
  const safe = statusOf(v) === 'safe';
  const start = async (ack: boolean, twin = false) => {
    try {
      const link = await api(ENDPOINTS.downloadLink, {
        params: { name, version },
        body: { acknowledgeRisk: ack },
      });
      location.assign(twin ? `${link.path}&format=safetensors` : link.path);
    } catch (e) {
      ctx.notice(e instanceof ApiError ? e.message : String(e));
    }
  };
  const button = h(
    'button',
    { type: 'button', class: safe ? 'primary' : 'danger', id: 'download' },
    `Download (${bytes(v.size)})`,
  );
  if (safe) {
    button.addEventListener('click', () => void start(false));
    return h(
      'div',
      { class: 'actions' },
      button,
      twinPart(v, () => void start(false, true)),
    );
  }
  const check = h('input', { type: 'checkbox', id: 'ack' });
  const go = h(
    'button',
    { type: 'button', class: 'danger', disabled: true, id: 'ack-download' },
    'Download anyway',
  );
  check.addEventListener('change', () => (go.disabled = !check.checked));
  const dialog = h(
    'dialog',
    { 'aria-labelledby': 'ack-h' },
    h('h2', { id: 'ack-h' }, 'This file is not known to be safe'),
    h(
      'p',
      null,
      `Its verdict is ${statusOf(v)}. Loading it with torch.load may run code on your machine. Download it only to inspect it in isolation.`,
    ),
    h(
      'p',
      null,
      check,
      h('label', { for: 'ack' }, ' I understand the risk and will not load this file where it can do harm.'),
    ),
    h(
      'div',
      { class: 'actions' },
      go,
      h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
    ),
  );
  go.addEventListener('click', () => {
    dialog.close();
    void start(true);
  });
  button.addEventListener('click', () => {
    check.checked = false;
    go.disabled = true;
    dialog.showModal();
  });
  return h('div', { class: 'actions' }, button, dialog);
}
