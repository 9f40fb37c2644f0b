import { ENDPOINTS, METRIC_NAME } from '@brine/contracts';
import { call, remote } from './client';
import { EXIT, EXIT_USAGE, failed } from './exit';
import { yellow } from './format';
import { UsageError } from './usage-error';
import { parseCommand, REMOTE_OPTIONS } from './arguments';

export const TAG_USAGE = `usage: brine tag NAME TAG VERSION [--reason TEXT] [--acknowledge-risk] [--url URL] [--token TOKEN]
       brine tag -d NAME TAG                        (remove the tag)
       brine tag NAME                               (list the tags)
       brine tag NAME --best-rule METRIC:min|max    (the rule that moves "best": the safe version with the
                                                     lowest or highest METRIC)
       brine tag NAME --clear-best-rule             ("best" then stays where it is put)

Points TAG at VERSION (moving "best" by hand needs an admin token; "latest" and "latest-safe" move by
themselves). A version that is not safe takes a tag only with --acknowledge-risk. A "best" moved by hand is
pinned: a best rule leaves it where it was put (new scans and metrics do not move it) until the rule is set again
(--best-rule) or the tag is removed (-d NAME best). The tag list marks a pinned tag "pinned".

${EXIT_USAGE}`;

export async function tagCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      reason: { type: 'string' },
      delete: { type: 'boolean', short: 'd', default: false },
      'acknowledge-risk': { type: 'boolean', default: false },
      'best-rule': { type: 'string' },
      'clear-best-rule': { type: 'boolean', default: false },
      ...REMOTE_OPTIONS,
    },
    TAG_USAGE,
  );
  if (parsed === null) return EXIT.ok;
  const { values, positionals } = parsed;
  const ruling = values['best-rule'] !== undefined || values['clear-best-rule'];
  if (
    ruling &&
    (positionals.length !== 1 || values.delete || (values['best-rule'] && values['clear-best-rule']))
  )
    throw new UsageError(`--best-rule and --clear-best-rule take NAME alone\n\n${TAG_USAGE}`);
  if (values.delete ? positionals.length !== 2 : positionals.length !== 1 && positionals.length !== 3)
    throw new UsageError(`tag needs NAME, NAME TAG VERSION or -d NAME TAG\n\n${TAG_USAGE}`);
  let rule: { metric: string; mode: 'min' | 'max' } | null = null;
  if (values['best-rule'] !== undefined) {
    const m = /^(.+):(min|max)$/.exec(values['best-rule']);
    if (!m || !METRIC_NAME.test(m[1]))
      throw new UsageError(
        `--best-rule takes METRIC:min or METRIC:max, like val_loss:min; got "${values['best-rule']}"`,
      );
    rule = { metric: m[1], mode: m[2] as 'min' | 'max' };
  }
  const r = remote(values);
  const [name, tag, version] = positionals;
  try {
    if (rule) {
      const set = await call(r, ENDPOINTS.setBestRule, { params: { name }, body: rule });
      console.log(
        `${name}: best follows ${rule.mode} ${rule.metric}; best → ${set.best ?? '(no safe version with it yet)'}`,
      );
      return EXIT.ok;
    }
    if (values['clear-best-rule']) {
      await call(r, ENDPOINTS.clearBestRule, { params: { name } });
      console.log(`${name}: no best rule; "best" stays where it is put`);
      return EXIT.ok;
    }
    if (values.delete) {
      await call(r, ENDPOINTS.deleteTag, { params: { name, tag } });
      console.log(`${name}:${tag} removed`);
      return EXIT.ok;
    }
    if (positionals.length === 1) {
      const tags = await call(r, ENDPOINTS.listTags, { params: { name } });
      for (const t of tags)
        console.log(
          `${t.tag.padEnd(16)} ${t.version.padEnd(24)} ${t.updatedAt}${t.pinned ? '  pinned' : ''}`,
        );
      return EXIT.ok;
    }
    const t = await call(r, ENDPOINTS.setTag, {
      params: { name, tag },
      body: {
        version,
        ...(values.reason ? { reason: values.reason } : {}),
        ...(values['acknowledge-risk'] ? { acknowledgeRisk: true } : {}),
      },
    });
    console.log(`${name}:${t.tag} → ${t.version}${t.pinned ? ' (pinned)' : ''}`);
    if (t.pinned) {
      const { rule: current } = await call(r, ENDPOINTS.getBestRule, { params: { name } });
      const back = current ? `brine tag ${name} --best-rule ${current.metric}:${current.mode} or ` : '';
      console.error(
        yellow(
          `"best" is pinned on ${t.version}: ${current ? `the rule (${current.mode} ${current.metric})` : 'a best rule'} leaves it there at new scans and metric changes; to hand it back to the rule: ${back}brine tag -d ${name} best`,
        ),
      );
    }
    return EXIT.ok;
  } catch (e) {
    return failed(e);
  }
}
