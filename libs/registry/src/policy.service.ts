import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { harmlessEntry, originOf, PROFILES, threatOf, TORCH_VERSIONS } from '@brine/scanner';
import type { SafeGlobalView } from '@brine/contracts';
import {
  ImportsRepository,
  SafeGlobalsRepository,
  VersionsRepository,
  type TokenEntity,
} from '@brine/persistence';

export type { SafeGlobalView } from '@brine/contracts';
import { ScanQueueService } from '@brine/jobs/producers';

/**
 * The operator's safe globals, as torch.serialization.add_safe_globals adds them. A change re-scans the versions
 * that import the global, so their verdicts follow the policy.
 */
@Injectable()
export class PolicyService {
  constructor(
    private readonly scans: ScanQueueService,
    private readonly globals: SafeGlobalsRepository,
    private readonly imports: ImportsRepository,
    private readonly versions: VersionsRepository,
  ) {}

  async names(): Promise<string[]> {
    return this.globals.names();
  }

  async list(): Promise<SafeGlobalView[]> {
    // who added it, by the token's name (ids mean nothing to a person)
    const rows = await this.globals.list();
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
    const created = await this.globals.add(name, note, token?.id ?? null);
    const rescanning = created ? await this.rescanImporters(name) : 0;
    const global = (await this.list()).find((g) => g.name === name) as SafeGlobalView;
    return { global, rescanning, created };
  }

  async remove(name: string): Promise<{ rescanning: number }> {
    if (!(await this.globals.remove(name)))
      throw new NotFoundException(`${name} is not on the safe-globals list`);
    return { rescanning: await this.rescanImporters(name) };
  }

  /** versions that import the global get a new scan generation and a job */
  private async rescanImporters(name: string): Promise<number> {
    const ids = await this.imports.versionsImporting(name);
    for (const id of ids) {
      const generation = await this.versions.rescan(id);
      await this.scans.enqueue(id, generation);
    }
    return ids.length;
  }
}
