import { ENDPOINTS, type RetentionPlan, type RetentionRule } from '@brine/contracts';
import { parseCommand, REMOTE_OPTIONS } from './arguments';
import { call, remote } from './client';
import { EXIT, EXIT_USAGE, failed } from './exit';
import { bold, dim } from './format';
import { UsageError } from './usage-error';

export const RETENTION_USAGE = `usage: brine retention NAME [--url URL] [--token TOKEN]          the rule, and what it would delete now
       brine retention NAME [--keep-newest N|none] [--keep-tagged yes|no] [--delete-unsafe-after DAYS|none]
       brine retention NAME --clear                                 remove the rule (nothing more is deleted)
       brine retention NAME --log [--limit N]                       what retention deleted, newest first

Setting changes only the parts given (the rest of the saved rule stays) and needs an admin token; the worker then
deletes what the rule says, and the command prints that plan.
  --keep-newest N           keep the newest N versions ("none": no limit)
  --keep-tagged yes|no      never delete a version a tag points at (default yes)
  --delete-unsafe-after D   delete versions that are not safe once they are D days old ("none": never)
  --json                    print the registry's JSON

${EXIT_USAGE}`;

export async function retentionCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      'keep-newest': { type: 'string' },
      'keep-tagged': { type: 'string' },
      'delete-unsafe-after': { type: 'string' },
      clear: { type: 'boolean', default: false },
      log: { type: 'boolean', default: false },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
      ...REMOTE_OPTIONS,
    },
    RETENTION_USAGE,
  );
  if (parsed === null) return EXIT.ok;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`retention needs NAME\n\n${RETENTION_USAGE}`);
  const [name] = positionals;
  const change: Partial<RetentionRule> = {};
  if (values['keep-newest'] !== undefined) change.keepNewest = count('--keep-newest', values['keep-newest']);
  if (values['delete-unsafe-after'] !== undefined)
    change.deleteUnsafeAfterDays = count('--delete-unsafe-after', values['delete-unsafe-after']);
  if (values['keep-tagged'] !== undefined) {
    if (!['yes', 'no', 'true', 'false'].includes(values['keep-tagged']))
      throw new UsageError('--keep-tagged takes yes or no');
    change.keepTagged = values['keep-tagged'] === 'yes' || values['keep-tagged'] === 'true';
  }
  const setting = Object.keys(change).length > 0;
  if ([setting, values.clear, values.log].filter(Boolean).length > 1)
    throw new UsageError('give one of: rule flags (--keep-newest …), --clear, --log');
  let limit: number | undefined;
  if (values.limit !== undefined) {
    if (!values.log) throw new UsageError('--limit goes with --log');
    limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit takes a whole number from 1');
  }
  const r = remote(values);
  try {
    if (values.log) {
      const log = await call(r, ENDPOINTS.retentionLog, { params: { name }, query: { limit } });
      if (values.json) console.log(JSON.stringify(log, null, 2));
      else if (log.length === 0) console.log(dim('retention has deleted nothing'));
      else for (const l of log) console.log(`${l.deletedAt}  ${l.version.padEnd(20)} ${l.reason}`);
      return EXIT.ok;
    }
    if (values.clear) {
      await call(r, ENDPOINTS.clearRetention, { params: { name } });
      console.log(`${name}: no retention rule (nothing more is deleted)`);
      return EXIT.ok;
    }
    let plan: RetentionPlan = await call(r, ENDPOINTS.getRetention, { params: { name } });
    if (setting) {
      const rule: RetentionRule = {
        keepNewest: null,
        keepTagged: true,
        deleteUnsafeAfterDays: null,
        ...(plan.rule ?? {}),
        ...change,
      };
      plan = await call(r, ENDPOINTS.setRetention, { params: { name }, body: rule });
    }
    if (values.json) console.log(JSON.stringify(plan, null, 2));
    else printPlan(name, plan, setting);
    return EXIT.ok;
  } catch (e) {
    return failed(e);
  }
}

/** N, or "none" for null */
function count(flag: string, v: string): number | null {
  if (v === 'none') return null;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1) throw new UsageError(`${flag} takes a whole number from 1, or none`);
  return n;
}

function printPlan(name: string, plan: RetentionPlan, saved: boolean): void {
  const rule = plan.rule;
  if (!rule) {
    console.log(`${name}: no retention rule (versions are kept until deleted by hand)`);
    return;
  }
  const parts = [
    rule.keepNewest === null ? 'no limit on versions' : `keep the newest ${rule.keepNewest}`,
    rule.keepTagged ? 'tagged versions stay' : 'tagged versions may go',
    rule.deleteUnsafeAfterDays === null
      ? 'versions that are not safe are kept'
      : `versions that are not safe go after ${rule.deleteUnsafeAfterDays} days`,
  ];
  console.log(`${bold(name)} retention${saved ? ' saved' : ''}: ${parts.join('; ')}`);
  if (plan.delete.length === 0) console.log(`  deletes nothing now; ${plan.keep} versions stay`);
  else {
    console.log(
      `  ${saved ? 'the worker deletes' : 'would delete now'} ${plan.delete.length}; ${plan.keep} stay:`,
    );
    for (const d of plan.delete) console.log(`    ${d.version.padEnd(20)} ${dim(d.reason)}`);
  }
}
