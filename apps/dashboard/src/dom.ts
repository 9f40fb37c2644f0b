/** Building the DOM without innerHTML: every string from the API lands as text, never as markup. */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Array<Child | Child[]>
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function s(tag: string, attrs: Attrs | null = null, ...children: Array<Child | Child[]>): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el: Element, attrs: Attrs | null): void {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el: Element, children: Array<Child | Child[]>): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'object' ? c : String(c));
  }
}

/** replaces what `el` holds */
export function mount(el: Element, ...children: Array<Child | Child[]>): void {
  el.replaceChildren();
  append(el, children);
}

/**
 * A list of rows under named columns, in a box that scrolls sideways on a narrow screen (the 390 px layout) instead of
 * widening the page; `body` is the table's tbody (or rows), `caption` is for screen readers.
 */
export function listTable(
  columns: string[],
  body: Child | Child[],
  opts: { class?: string; caption?: string } = {},
): HTMLDivElement {
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: opts.class ? `list ${opts.class}` : 'list' },
      opts.caption ? h('caption', { class: 'sr-only' }, opts.caption) : null,
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          columns.map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      body,
    ),
  );
}
