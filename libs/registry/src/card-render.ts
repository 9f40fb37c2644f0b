import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { marked } from 'marked';
import sanitizeHtml from 'sanitize-html';

/** how deep a card may nest blockquotes and lists, or emphasis; and the longest run of `*` or `_` it may hold */
export const CARD_MAX_NESTING = 32;
export const CARD_MAX_MARK_RUN = 32;
/** the longest run of one other punctuation mark: marked's inline lexer is quadratic over such runs (60 000 "!": 1.7 s idle, 7 s loaded) */
export const CARD_MAX_PUNCT_RUN = 1_000;
const PUNCT_RUN = new RegExp(`([^\\p{L}\\p{N}\\s*_])\\1{${CARD_MAX_PUNCT_RUN},}`, 'u');

const FENCE = /^(`{3,}|~{3,})/;
const SPACE = /\s/u;
const PUNCT = /[\p{P}\p{S}]/u;
const THEMATIC_BREAK = /^ {0,3}([-*_])([ \t]*\1){2,}[ \t]*$/;
/** one block container opening at the start of what is left of a line: a blockquote or a list item's marker */
const CONTAINER = /^[ \t]*(?:>|[-*+](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$))[ \t]?/;

/**
 * Why a card cannot be rendered within bounded stack and time, or null. `marked` renders nested blockquotes, lists
 * and emphasis by recursion: 5 000 nested `>` overflow its stack, and 2 000 nested `**` take seconds. This walks the
 * markdown once, line by line (fenced code is skipped), and counts the block containers each line opens and the
 * emphasis left open in each paragraph; anything deeper than CARD_MAX_NESTING, or a run of more than
 * CARD_MAX_MARK_RUN `*` or `_`, is refused with where it is and what to do.
 */
export function cardProblem(markdown: string): string | null {
  const lines = markdown.split(/\r\n|\r|\n/);
  let fence: string | null = null;
  /** emphasis left open in the paragraph, by mark (a "_" never closes a "*") */
  const open = { '*': 0, _: 0 };
  for (let i = 0; i < lines.length; i++) {
    const where = `line ${i + 1}`;
    let rest = lines[i];
    if (THEMATIC_BREAK.test(rest)) {
      open['*'] = open._ = 0;
      continue;
    }
    let depth = 0;
    for (let m = CONTAINER.exec(rest); m && m[0].length > 0; m = CONTAINER.exec(rest)) {
      if (++depth > CARD_MAX_NESTING) {
        if (fence !== null) break; // code: its text is not nesting
        return `the card nests more than ${CARD_MAX_NESTING} blockquotes or lists (">", "-", "1.") on ${where}, which cannot be rendered: flatten it, or put the text in a code block`;
      }
      rest = rest.slice(m[0].length);
      if (THEMATIC_BREAK.test(rest)) break;
    }
    const trimmed = rest.trimStart();
    const f = FENCE.exec(trimmed);
    if (fence !== null) {
      if (
        f &&
        f[1][0] === fence[0] &&
        f[1].length >= fence.length &&
        trimmed.slice(f[1].length).trim() === ''
      )
        fence = null;
      continue;
    }
    if (f) {
      fence = f[1];
      continue;
    }
    if (trimmed === '' || THEMATIC_BREAK.test(rest)) {
      open['*'] = open._ = 0;
      continue;
    }
    // emphasis: code spans and escaped marks do not count; a run that can open raises the depth, one that can close lowers it
    const text = rest.replace(/(`+)[^`]*?\1/g, ' ').replace(/\\[\\*_]/g, ' ');
    const punct = PUNCT_RUN.exec(text);
    if (punct)
      return `the card has a run of more than ${CARD_MAX_PUNCT_RUN} "${punct[1]}" on ${where}, which takes too long to render: shorten it or put it in a code block`;
    for (const m of text.matchAll(/\*+|_+/g)) {
      const run = m[0];
      if (run.length > CARD_MAX_MARK_RUN)
        return `the card has a run of ${run.length} "${run[0]}" on ${where}; at most ${CARD_MAX_MARK_RUN} can be rendered: escape them (\\${run[0]}) or put them in \`code\``;
      const before = m.index === 0 ? ' ' : text[m.index - 1];
      const after = text[m.index + run.length] ?? ' ';
      // CommonMark's flanking rules decide whether a run can open or close emphasis
      const left = !SPACE.test(after) && (!PUNCT.test(after) || SPACE.test(before) || PUNCT.test(before));
      const right = !SPACE.test(before) && (!PUNCT.test(before) || SPACE.test(after) || PUNCT.test(after));
      const opens = run[0] === '*' ? left : left && (!right || PUNCT.test(before));
      const closes = run[0] === '*' ? right : right && (!left || PUNCT.test(after));
      const mark = run[0] as '*' | '_';
      if (closes && open[mark] > 0) open[mark]--;
      else if (opens) open[mark]++;
      const emphasis = open['*'] + open['_'];
      if (emphasis > CARD_MAX_NESTING)
        return `the card nests emphasis ("*", "_") ${emphasis} deep by ${where}; at most ${CARD_MAX_NESTING} can be rendered: close each "*" or "_" you open, or escape them (\\*)`;
    }
  }
  return null;
}

/**
 * Markdown rendered with `marked` and cleaned with `sanitize-html` (both maintained): HTML written in the markdown
 * goes through the same sanitizer, and only plain document tags survive — no script, style, iframe, form or event
 * handler, no image (a remote image would tell a third party who reads the card), links only to http(s) and
 * mailto, opened without a referrer.
 */
export function renderCard(markdown: string): string {
  const html = marked.parse(markdown, { async: false, gfm: true });
  return sanitizeHtml(html, {
    allowedTags: sanitizeHtml.defaults.allowedTags.filter((t) => t !== 'img'),
    allowedAttributes: {
      a: ['href', 'title', 'rel', 'target'],
      code: ['class'],
      th: ['align'],
      td: ['align'],
    },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    transformTags: {
      a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer nofollow', target: '_blank' }),
    },
  });
}

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** the longest a card may take to render (marked is superlinear on some inputs: 60 000 "!" take seconds) */
export const CARD_RENDER_MS = 2_000;

export class CardRenderError extends Error {}

/**
 * Renders cards on a worker thread, one at a time, each within CARD_RENDER_MS (counted from when the worker has
 * loaded the renderer): a card that takes longer or overflows the stack fails with a CardRenderError and never holds
 * up the event loop that answers requests. A worker that ran out of time is terminated; the next card gets a new one.
 */
export class CardRenderer {
  private worker: Promise<Worker> | null = null;
  private turn: Promise<unknown> = Promise.resolve();

  /** the card's HTML; CardRenderError when it cannot be rendered in time */
  render(markdown: string): Promise<string> {
    const mine = this.turn.then(() => this.renderNow(markdown));
    this.turn = mine.catch(() => undefined);
    return mine;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    await (await w?.catch(() => null))?.terminate();
  }

  private async renderNow(markdown: string): Promise<string> {
    const started = (this.worker ??= this.start());
    const w = await started;
    w.ref();
    let timer: NodeJS.Timeout | undefined;
    let onMessage = (_m: { html?: string; error?: string }): void => undefined;
    let onError = (_e: Error): void => undefined;
    let onExit = (): void => undefined;
    try {
      return await new Promise<string>((resolve, reject) => {
        const fail = (why: string) => {
          if (this.worker === started) this.worker = null;
          void w.terminate();
          reject(new CardRenderError(why));
        };
        onMessage = (m) =>
          typeof m.html === 'string' ? resolve(m.html) : reject(new CardRenderError(m.error ?? 'failed'));
        onError = (e) => fail(e.message);
        onExit = () => fail('the renderer stopped');
        w.on('message', onMessage).on('error', onError).on('exit', onExit);
        timer = setTimeout(
          () => fail(`it takes more than ${CARD_RENDER_MS / 1000} s to render`),
          CARD_RENDER_MS,
        );
        w.postMessage(markdown);
      });
    } finally {
      clearTimeout(timer);
      w.off('message', onMessage).off('error', onError).off('exit', onExit);
      w.unref();
    }
  }

  /** a worker that has loaded the renderer (it says so with its first message) */
  private start(): Promise<Worker> {
    const w = new Worker(__filename, { workerData: { brineCardRenderer: true } });
    let onMessage = (): void => undefined;
    let onError = (_e: Error): void => undefined;
    let onExit = (_code: number): void => undefined;
    return new Promise<Worker>((resolve, reject) => {
      onMessage = () => resolve(w);
      onError = reject;
      onExit = (code) => reject(new CardRenderError(`the renderer did not start (exit ${code})`));
      w.once('message', onMessage).once('error', onError).once('exit', onExit);
    }).finally(() => w.off('message', onMessage).off('error', onError).off('exit', onExit));
  }
}

// the worker's side: render what it is sent, answer with the HTML or the error's first line
if (!isMainThread && (workerData as { brineCardRenderer?: boolean } | null)?.brineCardRenderer) {
  parentPort?.postMessage({ ready: true });
  parentPort?.on('message', (markdown: string) => {
    try {
      parentPort?.postMessage({ html: renderCard(markdown) });
    } catch (e) {
      parentPort?.postMessage({ error: String((e as Error)?.message ?? e).split('\n')[0] });
    }
  });
}
