import { Injectable } from '@nestjs/common';
import { marked } from 'marked';
import sanitizeHtml from 'sanitize-html';
import { DataSource } from 'typeorm';
import type { CardView } from '@brine/contracts';
import { CheckpointsService } from './checkpoints.service';

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

  async checkpointCard(name: string): Promise<CardView> {
    return this.read('checkpoints', await this.checkpoints.checkpointId(name));
  }

  async setCheckpointCard(name: string, markdown: string): Promise<CardView> {
    return this.write('checkpoints', await this.checkpoints.checkpointId(name), markdown);
  }

  async versionCard(name: string, version: string): Promise<CardView> {
    return this.read('versions', (await this.checkpoints.requireVersion(name, version)).id);
  }

  async setVersionCard(name: string, version: string, markdown: string): Promise<CardView> {
    return this.write('versions', (await this.checkpoints.requireVersion(name, version)).id, markdown);
  }

  /** the card column of a checkpoint or version row */
  private async read(table: 'checkpoints' | 'versions', id: string): Promise<CardView> {
    const [r] = (await this.db.query(`SELECT card, card_updated_at FROM ${table} WHERE id = $1`, [
      id,
    ])) as Array<{
      card: string | null;
      card_updated_at: Date | null;
    }>;
    return view(r?.card ?? null, r?.card_updated_at ?? null);
  }

  private async write(table: 'checkpoints' | 'versions', id: string, markdown: string): Promise<CardView> {
    await this.db.query(`UPDATE ${table} SET card = $2, card_updated_at = now() WHERE id = $1`, [
      id,
      markdown,
    ]);
    return this.read(table, id);
  }
}
