import { ENDPOINTS, type TokenView } from '@brine/contracts';
import { parseCommand, REMOTE_OPTIONS } from './arguments';
import { call, remote } from './client';
import { CommandFailure, UsageError } from './usage-error';
import { EXIT, EXIT_USAGE, failed } from './exit';
import { dim } from './format';

export const TOKENS_USAGE = `usage: brine tokens [--json] [--url URL] [--token TOKEN]       list the tokens (never their secrets)
       brine tokens create NAME --scope read|write|admin...   create one; its secret is printed once
       brine tokens revoke ID|NAME                            revoke one (its download links die with it)

All three need an admin token. --scope is repeatable or comma-separated (e.g. --scope read,write).

${EXIT_USAGE}`;

const SCOPES = ['read', 'write', 'admin'] as const;
type Scope = (typeof SCOPES)[number];

export async function tokensCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      scope: { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
      ...REMOTE_OPTIONS,
    },
    TOKENS_USAGE,
  );
  if (parsed === null) return EXIT.ok;
  const { values, positionals } = parsed;
  const [action = 'list', target, ...extra] = positionals;
  if (extra.length > 0 || !['list', 'create', 'revoke'].includes(action))
    throw new UsageError(`tokens takes list, create NAME or revoke ID|NAME\n\n${TOKENS_USAGE}`);
  if (action !== 'list' && !target)
    throw new UsageError(`tokens ${action} needs ${action === 'create' ? 'NAME' : 'ID or NAME'}`);
  const scopes = (values.scope ?? []).flatMap((s) => s.split(',')).map((s) => s.trim());
  for (const s of scopes)
    if (!(SCOPES as readonly string[]).includes(s))
      throw new UsageError(`--scope must be read, write or admin, not "${s}"`);
  if (action === 'create' && scopes.length === 0)
    throw new UsageError('tokens create needs --scope (read, write or admin)');
  if (action !== 'create' && scopes.length > 0) throw new UsageError('--scope goes with tokens create');
  const r = remote(values);
  try {
    if (action === 'create') {
      const t = await call(r, ENDPOINTS.createToken, { body: { name: target, scopes: scopes as Scope[] } });
      if (values.json) console.log(JSON.stringify(t, null, 2));
      else {
        console.log(
          `token "${t.name}" (${t.scopes.join(', ')}) created, id ${t.id}; its secret, shown only this once:`,
        );
        console.log(t.token);
      }
      return EXIT.ok;
    }
    const tokens = await call(r, ENDPOINTS.listTokens, {});
    if (action === 'list') {
      if (values.json) console.log(JSON.stringify(tokens, null, 2));
      else for (const t of tokens) console.log(line(t));
      return EXIT.ok;
    }
    const matches = tokens.filter((t) => t.id === target || (t.name === target && t.revokedAt === null));
    if (matches.length !== 1)
      throw new CommandFailure(
        matches.length === 0
          ? `no live token has the id or name "${target}" (brine tokens lists them)`
          : `${matches.length} live tokens are named "${target}": give the id`,
        EXIT.refused,
      );
    const t = await call(r, ENDPOINTS.revokeToken, { params: { id: matches[0].id } });
    console.log(`token "${t.name}" (${t.id}) revoked`);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommandFailure) throw e;
    return failed(e);
  }
}

function line(t: TokenView): string {
  const state = t.revokedAt
    ? `revoked ${t.revokedAt}`
    : t.lastUsedAt
      ? `last used ${t.lastUsedAt}`
      : 'never used';
  return `${t.name.padEnd(24)} ${t.scopes.join(',').padEnd(17)} ${t.prefix.padEnd(14)} ${t.id}  ${dim(state)}`;
}
