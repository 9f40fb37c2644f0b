import { h } from './dom.js';

/**
 * A model card (rendered and sanitized by the registry: no script, style, event handler or image) beside the
 * metadata given at upload, when there is any.
 */
export function cardSection(
  card: Promise<{ html: string | null }>,
  metadata: Record<string, unknown> = {},
): HTMLElement {
  const body = h('div', { class: 'card-body', id: 'card' });
  const meta = Object.entries(metadata);
  const section = h(
    'section',
    { class: 'card', 'aria-labelledby': 'card-h' },
    h('h2', { id: 'card-h' }, 'Model card'),
    body,
    meta.length
      ? h(
          'dl',
          { class: 'metadata', id: 'metadata' },
          meta.flatMap(([k, x]) => [
            h('dt', null, k),
            h('dd', null, typeof x === 'string' ? x : JSON.stringify(x)),
          ]),
        )
      : null,
  );
  void card
    .then((c) => {
      // HTML the registry sanitized with sanitize-html; the page's CSP also forbids inline scripts
      if (c.html) body.innerHTML = c.html;
      else body.append(h('p', { class: 'muted' }, 'No card yet: PUT …/card with {"markdown": "…"}.'));
    })
    .catch(() => body.append(h('p', { class: 'muted' }, 'The card could not be read.')));
  return section;
}
