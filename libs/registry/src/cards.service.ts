import { BadRequestException, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { CheckpointsRepository, VersionsRepository } from '@brine/persistence';
import type { CardView } from '@brine/contracts';
import { CardRenderer, CardRenderError, cardProblem, escapeHtml } from './card-render';
import { CheckpointsService } from './checkpoints.service';

export { cardProblem, renderCard, CARD_MAX_MARK_RUN, CARD_MAX_NESTING, CARD_RENDER_MS } from './card-render';

/**
 * Model cards per checkpoint and per version (a card is documentation: it may change, the file may not). A card is
 * checked and rendered once, when it is written — nesting bounded, rendered on a worker thread within a time limit
 * — and a card that cannot be rendered is a 400 saying why; reads serve the stored HTML. A card stored before that
 * rule (without HTML) is rendered the same way on its first read, or shown as escaped text when it cannot be: a
 * stored card never makes a read fail.
 */
@Injectable()
export class CardsService implements OnModuleDestroy {
  private readonly renderer = new CardRenderer();

  constructor(
    private readonly checkpoints: CheckpointsService,
    private readonly checkpointRows: CheckpointsRepository,
    private readonly versionRows: VersionsRepository,
  ) {}

  async onModuleDestroy(): Promise<void> {
    await this.renderer.close();
  }

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

  private rows(table: 'checkpoints' | 'versions'): CheckpointsRepository | VersionsRepository {
    return table === 'checkpoints' ? this.checkpointRows : this.versionRows;
  }

  /** the card column of a checkpoint or version row */
  private async read(table: 'checkpoints' | 'versions', id: string): Promise<CardView> {
    const r = await this.rows(table).card(id);
    const markdown = r?.card ?? null;
    let html = r?.card_html ?? null;
    if (markdown !== null && html === null) {
      // written before cards were rendered once: rendered now if it can be (else shown as text), and kept unless
      // the card changed meanwhile
      html = cardProblem(markdown) === null ? await this.renderer.render(markdown).catch(() => null) : null;
      html ??= `<pre>${escapeHtml(markdown)}</pre>`;
      await this.rows(table).keepCardHtml(id, markdown, html);
    }
    return {
      markdown,
      html,
      updatedAt: r?.card_updated_at ? r.card_updated_at.toISOString() : null,
    };
  }

  private async write(table: 'checkpoints' | 'versions', id: string, markdown: string): Promise<CardView> {
    const problem = cardProblem(markdown);
    if (problem !== null) throw new BadRequestException(`${problem}; nothing was stored`);
    const html = await this.renderer.render(markdown).catch((e: unknown) => {
      if (e instanceof CardRenderError)
        throw new BadRequestException(
          `the card cannot be rendered: ${e.message}; simplify it (shorter paragraphs, fewer unmatched "!", "*", "_" or "~"); nothing was stored`,
        );
      throw e;
    });
    await this.rows(table).setCard(id, markdown, html);
    return this.read(table, id);
  }
}
