import { ENDPOINTS } from '@brine/contracts';
import { call, remote } from './client';
import { EXIT, EXIT_USAGE, failed } from './exit';
import { UsageError } from './usage-error';
import { parseCommand, REMOTE_OPTIONS } from './arguments';

export const TAG_USAGE = `usage: brine tag NAME TAG VERSION [--reason TEXT] [--acknowledge-risk] [--url URL] [--token TOKEN]
       brine tag -d NAME TAG             (remove the tag)
       brine tag NAME                    (list the tags)

Points TAG at VERSION (moving "best" by hand needs an admin token; "latest" and "latest-safe" move by
themselves). A version that is not safe takes a tag only with --acknowledge-risk.

${EXIT_USAGE}`;

export async function tagCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      reason: { type: 'string' },
      delete: { type: 'boolean', short: 'd', default: false },
      'acknowledge-risk': { type: 'boolean', default: false },
      ...REMOTE_OPTIONS,
    },
    TAG_USAGE,
  );
  if (parsed === null) return EXIT.ok;
  const { values, positionals } = parsed;
  if (values.delete ? positionals.length !== 2 : positionals.length !== 1 && positionals.length !== 3)
    throw new UsageError(`tag needs NAME, NAME TAG VERSION or -d NAME TAG\n\n${TAG_USAGE}`);
  const r = remote(values);
  const [name, tag, version] = positionals;
  try {
    if (values.delete) {
      await call(r, ENDPOINTS.deleteTag, { params: { name, tag } });
      console.log(`${name}:${tag} removed`);
      return EXIT.ok;
    }
    if (positionals.length === 1) {
      const tags = await call(r, ENDPOINTS.listTags, { params: { name } });
      for (const t of tags) console.log(`${t.tag.padEnd(16)} ${t.version.padEnd(24)} ${t.updatedAt}`);
      return 0;
    }
    const t = await call(r, ENDPOINTS.setTag, {
      params: { name, tag },
      body: {
        version,
        ...(values.reason ? { reason: values.reason } : {}),
        ...(values['acknowledge-risk'] ? { acknowledgeRisk: true } : {}),
      },
    });
    console.log(`${name}:${t.tag} → ${t.version}`);
    return 0;
  } catch (e) {
    return failed(e);
  }
}
