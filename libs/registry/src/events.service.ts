import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export const EVENT_TYPES = [
  'scan.unsafe',
  'scan.completed',
  'version.created',
  'version.deleted',
  'tag.moved',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * The outbox: every event is a row written in the same transaction as the change it reports, so no verdict,
 * version or tag move exists without its event. Dispatchers turn undispatched rows into webhook deliveries.
 */
@Injectable()
export class EventsService {
  async record(
    tx: EntityManager,
    type: EventType,
    checkpoint: string | null,
    payload: Record<string, unknown>,
  ): Promise<string> {
    const [row] = (await tx.query(
      `INSERT INTO events (type, checkpoint, payload) VALUES ($1, $2, $3) RETURNING id`,
      [type, checkpoint, JSON.stringify(payload)],
    )) as Array<{ id: string }>;
    return row.id;
  }
}
