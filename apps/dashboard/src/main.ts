import { ApiError, getToken } from './api.js';
import { h, mount } from './dom.js';
import type { PageContext } from './page-context.js';
import { checkpointPage } from './pages/checkpoint.js';
import { checkpointsPage } from './pages/checkpoints.js';
import { diffPage } from './pages/diff.js';
import { reportPage } from './pages/report.js';
import { settingsPage } from './pages/settings.js';
import { webhooksPage } from './pages/webhooks.js';

type Page = (ctx: PageContext) => Promise<void>;

const ROUTES: Array<[RegExp, Page, string]> = [
  [/^\/?$/, checkpointsPage, 'checkpoints'],
  [/^\/checkpoints\/([^/]+)$/, checkpointPage, 'checkpoints'],
  [/^\/checkpoints\/([^/]+)\/diff$/, diffPage, 'checkpoints'],
  [/^\/checkpoints\/([^/]+)\/([^/]+)$/, reportPage, 'checkpoints'],
  [/^\/webhooks$/, webhooksPage, 'webhooks'],
  [/^\/settings$/, settingsPage, 'settings'],
];

let generation = 0;
const timers: number[] = [];

function notice(message: string | null, kind: 'error' | 'info' = 'error'): void {
  const el = document.getElementById('notice')!;
  if (!message) {
    el.hidden = true;
    el.textContent = '';
    return;
  }
  el.hidden = false;
  el.className = `notice ${kind}`;
  el.textContent = message;
}

export function describe(e: unknown): string {
  return e instanceof ApiError ? e.message : `Something went wrong in the page: ${(e as Error).message}`;
}

async function route(): Promise<void> {
  const gen = ++generation;
  for (const t of timers.splice(0)) clearTimeout(t);
  notice(null);
  const [path, qs] = (location.hash.replace(/^#/, '') || '/').split('?');
  const main = document.getElementById('main')!;
  const found = ROUTES.find(([re]) => re.test(path));
  for (const a of document.querySelectorAll<HTMLAnchorElement>('[data-nav]'))
    a.toggleAttribute('aria-current', a.dataset.nav === (found?.[2] ?? ''));
  if (!found) {
    mount(
      main,
      h('h1', null, 'Page not found'),
      h('p', null, h('a', { href: '#/' }, 'Back to the checkpoints')),
    );
    return;
  }
  const [re, page] = found;
  if (!getToken() && page !== settingsPage) {
    location.hash = `#/settings?next=${encodeURIComponent(location.hash)}`;
    return;
  }
  const ctx: PageContext = {
    main,
    params: (re.exec(path) ?? []).slice(1).map(decodeURIComponent),
    query: new URLSearchParams(qs ?? ''),
    notice,
    get left() {
      return gen !== generation;
    },
    every(ms, fn) {
      const tick = async () => {
        if (gen !== generation) return;
        let again: boolean | void = true;
        try {
          again = await fn();
        } catch (e) {
          notice(describe(e));
        }
        if (again !== false && gen === generation) timers.push(window.setTimeout(tick, ms));
      };
      timers.push(window.setTimeout(tick, ms));
    },
  };
  mount(main, h('p', { class: 'loading' }, 'Loading…'));
  try {
    await page(ctx);
  } catch (e) {
    if (gen !== generation) return;
    mount(main, h('h1', null, 'This page could not be shown'), h('p', { class: 'error-text' }, describe(e)));
  }
  if (gen === generation && document.activeElement === document.body) main.focus({ preventScroll: true });
}

window.addEventListener('hashchange', () => void route());
void route();
