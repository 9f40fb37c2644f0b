import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderCard } from '@brine/registry';
import { FIXTURES } from '../helpers/paths';
import { put, startStack, type Stack } from '../helpers/stack';

/** Model cards: stored per checkpoint and per version, rendered, and sanitized of everything that could act. */
let s: Stack;
before(async () => {
  s = await startStack({ withWorker: false });
  await put(s, 'cd', 'v1', readFileSync(join(FIXTURES, 'twin', 'diff_a.pt')));
});
after(async () => {
  await s?.close();
});

const HOSTILE = [
  '# ResNet-50, fine-tuned',
  '',
  '**Top-1** 76.1 % on [ImageNet](https://image-net.org).',
  '',
  '<script>alert(1)</script><img src=x onerror=alert(2)><iframe src="https://evil.example"></iframe>',
  '<a href="javascript:alert(3)">click</a> <b onclick="alert(4)">bold</b> <style>body{display:none}</style>',
  '![tracking pixel](https://tracker.example/p.png) [proto](//evil.example/x)',
].join('\n');

describe('model cards', () => {
  it('renders markdown and strips scripts, handlers, frames, styles, remote images and script links', () => {
    const html = renderCard(HOSTILE);
    assert.match(html, /<h1>ResNet-50, fine-tuned<\/h1>/);
    assert.match(html, /<strong>Top-1<\/strong>/);
    assert.match(
      html,
      /<a href="https:\/\/image-net\.org" rel="noopener noreferrer nofollow" target="_blank">/,
    );
    for (const bad of [
      /<script/i,
      /<img/i,
      /<iframe/i,
      /<style/i,
      /onerror/i,
      /onclick/i,
      /javascript:/i,
      /tracker\.example/,
      /\/\/evil/,
    ])
      assert.doesNotMatch(html, bad);
    assert.match(html, /<b>bold<\/b>/, 'harmless HTML stays');
  });

  it('is stored per checkpoint and per version, and checked at the edge', async () => {
    const empty = (await (await s.api('/checkpoints/cd/v1/card')).json()) as { markdown: string | null };
    assert.equal(empty.markdown, null);
    const r = await s.api('/checkpoints/cd/v1/card', { method: 'PUT', json: { markdown: HOSTILE } });
    assert.equal(r.status, 200);
    const card = (await r.json()) as { markdown: string; html: string; updatedAt: string };
    assert.equal(card.markdown, HOSTILE);
    assert.doesNotMatch(card.html, /<script|onerror|javascript:/i);
    assert.equal(
      (await s.api('/checkpoints/cd/card', { method: 'PUT', json: { markdown: '# all versions' } })).status,
      200,
    );
    const whole = (await (await s.api('/checkpoints/cd/card')).json()) as { html: string };
    assert.match(whole.html, /<h1>all versions<\/h1>/);
    assert.equal(
      (await s.api('/checkpoints/cd/v1/card', { method: 'PUT', json: { markdown: 'x'.repeat(70_000) } }))
        .status,
      400,
    );
    assert.equal((await s.api('/checkpoints/cd/v9/card')).status, 404);
    assert.equal(
      (await s.api('/checkpoints/cd/v1/card', { method: 'PUT', json: { markdown: 'x' }, token: null }))
        .status,
      401,
    );
  });
});
