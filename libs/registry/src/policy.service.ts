import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { harmlessEntry, originOf, PROFILES, threatOf, TORCH_VERSIONS } from '@brine/scanner';
import { DataSource } from 'typeorm';
import type { SafeGlobalView } from '@brine/contracts';
import type { TokenEntity } from '@brine/persistence';

export type { SafeGlobalView } from '@brine/contracts';
import { CheckpointsService } from './checkpoints.service';
import { ScanQueueService } from './scan-queue.service';

/**
 * The operator's safe globals, as torch.serialization.add_safe_globals adds them. A change re-scans the versions
 * that import the global, so their verdicts follow the policy.
 */
@Injectable()
export class PolicyService {
  constructor(
    private readonly db: DataSource,
    private readonly scans: ScanQueueService,
    private readonly checkpoints: CheckpointsService,
  ) {}

  async names(): Promise<string[]> {
    const rows = (await this.db.query('SELECT name FROM safe_globals ORDER BY name')) as Array<{
      name: string;
    }>;
    return rows.map((r) => r.name);
  }

  async list(): Promise<SafeGlobalView[]> {
    // who added it, by the token's name (ids mean nothing to a person)
    const rows = (await this.db.query(
      `SELECT g.name, g.note, t.name AS added_by, g.created_at FROM safe_globals g
         LEFT JOIN tokens t ON t.id = g.added_by ORDER BY g.name`,
    )) as Array<{ name: string; note: string | null; added_by: string | null; created_at: Date }>;
    return rows.map((r) => ({
      name: r.name,
      note: r.note,
      addedBy: r.added_by,
      createdAt: r.created_at.toISOString(),
    }));
  }

  async add(
    name: string,
    note: string | null,
    token: TokenEntity | null,
  ): Promise<{ global: SafeGlobalView; rescanning: number; created: boolean }> {
    // add_safe_globals is for a harmless class the file needs; a code-execution primitive never is one
    const dot = name.lastIndexOf('.');
    const threat = threatOf(name.slice(0, dot), name.slice(dot + 1));
    if (threat)
      throw new BadRequestException(
        `${name} cannot be a safe global: ${threat.reason}. A file that needs it to load runs code when loaded.`,
      );
    // allow by proof: what every victim's process has (the standard library, numpy, torch) must be on Brine's vetted
    // list or torch's own; the operator's own code (or a third-party package) is theirs to vouch for
    const origin = originOf(name.slice(0, dot));
    const torchAllows = TORCH_VERSIONS.some((v) => PROFILES[v].allowed.has(name));
    if (origin !== 'other' && !harmlessEntry(name) && !torchAllows)
      throw new BadRequestException(
        `${name} cannot be a safe global: it is in ${origin === 'stdlib' ? "Python's standard library" : origin}, which every process that loads a checkpoint has, and it is not on Brine's vetted list of harmless constructors, so allowing it would let any file call it. If it is harmless, it belongs on that list (libs/scanner/data/harmless.json) with the reason from its source.`,
      );
    const inserted = (await this.db.query(
      `INSERT INTO safe_globals (name, note, added_by) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET note = EXCLUDED.note
       RETURNING (xmax = 0) AS created`,
      [name, note, token?.id ?? null],
    )) as Array<{ created: boolean }>;
    const created = inserted[0]?.created ?? false;
    const rescanning = created ? await this.rescanImporters(name) : 0;
    const global = (await this.list()).find((g) => g.name === name) as SafeGlobalView;
    return { global, rescanning, created };
  }

  async remove(name: string): Promise<{ rescanning: number }> {
    const r = (await this.db.query('DELETE FROM safe_globals WHERE name = $1', [name])) as [
      unknown[],
      number,
    ];
    if (r[1] === 0) throw new NotFoundException(`${name} is not on the safe-globals list`);
    return { rescanning: await this.rescanImporters(name) };
  }

  /** versions that import the global get a new scan generation and a job */
  private async rescanImporters(name: string): Promise<number> {
    const rows = (await this.db.query(
      `SELECT DISTINCT i.version_id FROM imports i WHERE i.module || '.' || i.name = $1`,
      [name],
    )) as Array<{ version_id: string }>;
    for (const r of rows) {
      const generation = await this.checkpoints.bumpGeneration(this.db.manager, r.version_id);
      await this.scans.enqueue(r.version_id, generation);
    }
    return rows.length;
  }
}
