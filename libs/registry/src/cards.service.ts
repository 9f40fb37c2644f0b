import { Injectable, NotFoundException } from '@nestjs/common';
import { marked } from 'marked';
import sanitizeHtml from 'sanitize-html';
import { DataSource } from 'typeorm';
import type { CardView } from '@brine/contracts';
import { CheckpointsService } from './checkpoints.service';
import { checkName } from './validation';

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

const view = (markdown: string | null, at: Date | null): CardView => ({
  markdown,
  html: markdown === null ? null : renderCard(markdown),
  updatedAt: at ? at.toISOString() : null,
});

/** Model cards per checkpoint and per version (a card is documentation: it may change, the file may not). */
@Injectable()
export class CardsService {
  constructor(
    private readonly db: DataSource,
    private readonly checkpoints: CheckpointsService,
  ) {}

  private async checkpointRow(name: string) {
    checkName('name', name);
    const [c] = (await this.db.query('SELECT id, card, card_updated_at FROM checkpoints WHERE name = $1', [
      name,
    ])) as Array<{ id: string; card: string | null; card_updated_at: Date | null }>;
    if (!c) throw new NotFoundException(`no checkpoint named ${name}`);
    return c;
  }

  async checkpointCard(name: string): Promise<CardView> {
    const c = await this.checkpointRow(name);
    return view(c.card, c.card_updated_at);
  }

  async setCheckpointCard(name: string, markdown: string): Promise<CardView> {
    const c = await this.checkpointRow(name);
    await this.db.query('UPDATE checkpoints SET card = $2, card_updated_at = now() WHERE id = $1', [
      c.id,
      markdown,
    ]);
    return this.checkpointCard(name);
  }

  async versionCard(name: string, version: string): Promise<CardView> {
    const v = await this.checkpoints.requireVersion(name, version);
    const [r] = (await this.db.query('SELECT card, card_updated_at FROM versions WHERE id = $1', [
      v.id,
    ])) as Array<{
      card: string | null;
      card_updated_at: Date | null;
    }>;
    return view(r?.card ?? null, r?.card_updated_at ?? null);
  }

  async setVersionCard(name: string, version: string, markdown: string): Promise<CardView> {
    const v = await this.checkpoints.requireVersion(name, version);
    await this.db.query('UPDATE versions SET card = $2, card_updated_at = now() WHERE id = $1', [
      v.id,
      markdown,
    ]);
    return this.versionCard(name, version);
  }
}
