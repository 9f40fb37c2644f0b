import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { Config } from '@brine/config';
import type { TokenView } from '@brine/contracts';
import { TokensRepository, type Scope, type TokenEntity } from '@brine/persistence';

export type { TokenView } from '@brine/contracts';
import { CONFIG, LINK_SECRET } from '@brine/runtime';

export function tokenView(t: TokenEntity): TokenView {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    scopes: t.scopes,
    createdAt: t.createdAt.toISOString(),
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
  };
}

/** what each scope grants: admin ⊇ write ⊇ read */
export function grants(scopes: readonly Scope[], needed: Scope): boolean {
  if (scopes.includes('admin')) return true;
  if (needed === 'write') return scopes.includes('write');
  if (needed === 'read') return scopes.includes('read') || scopes.includes('write');
  return false;
}

/**
 * API tokens: random 256-bit secrets shown once, stored as SHA-256 (a high-entropy secret needs no slow hash).
 */
@Injectable()
export class TokensService {
  constructor(
    private readonly tokens: TokensRepository,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LINK_SECRET) private readonly secret: () => string,
  ) {}

  static hash(secret: string): string {
    return createHash('sha256').update(secret).digest('hex');
  }

  async create(name: string, scopes: Scope[]): Promise<{ secret: string; token: TokenEntity }> {
    const secret = `brine_${randomBytes(32).toString('base64url')}`;
    const token = await this.tokens.create(name, scopes, TokensService.hash(secret), secret.slice(0, 12));
    return { secret, token };
  }

  async authenticate(secret: string): Promise<TokenEntity | null> {
    if (secret.length < 20 || secret.length > 200) return null;
    const token = await this.tokens.activeByHash(TokensService.hash(secret));
    if (!token) return null;
    const now = Date.now();
    if (!token.lastUsedAt || now - token.lastUsedAt.getTime() > 60_000) {
      void this.tokens.touch(token.id, new Date(now)).catch(() => undefined);
    }
    return token;
  }

  /**
   * A download link for a browser, which cannot put a header on a plain link: `<token id>.<expiry>.<HMAC>` over
   * the token, what the link fetches and when it expires, keyed with the server's secret (never stored in the
   * database). Every API instance with the same secret can check it; it lives at most LINK_TTL_SECONDS and dies
   * with the token.
   */
  signLink(token: TokenEntity, target: string, ttlSeconds = LINK_TTL_SECONDS, now = Date.now()): string {
    const expires = Math.floor(now / 1000) + Math.min(ttlSeconds, LINK_TTL_SECONDS);
    return `${token.id}.${expires}.${linkMac(this.secret(), token.id, target, expires)}`;
  }

  /**
   * The token a link was signed with, or null when the link is malformed, expired, promises to live longer than
   * links ever do, is forged, or its token was revoked.
   */
  async verifyLink(link: string, target: string, now = Date.now()): Promise<TokenEntity | null> {
    const m = /^([0-9a-f-]{36})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(link);
    if (!m) return null;
    const expires = Number(m[2]);
    const left = expires * 1000 - now;
    if (left < 0 || left > (LINK_TTL_SECONDS + LINK_CLOCK_SKEW_SECONDS) * 1000) return null;
    const want = Buffer.from(linkMac(this.secret(), m[1], target, expires));
    const got = Buffer.from(m[3]);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return null;
    return this.tokens.active(m[1]);
  }

  list(): Promise<TokenEntity[]> {
    return this.tokens.list();
  }

  async revoke(id: string): Promise<TokenEntity> {
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new BadRequestException('token id must be a UUID');
    const token = await this.tokens.find(id);
    if (!token) throw new NotFoundException(`no token with id ${id}`);
    if (!token.revokedAt) await this.tokens.revoke(token, new Date());
    return token;
  }

  /**
   * Makes sure an admin can get in: BRINE_ADMIN_TOKEN is registered if set; otherwise, when no admin token
   * exists, one is created and its secret returned so the caller can print it once.
   */
  async bootstrap(): Promise<string | null> {
    const configured = this.config.adminToken;
    if (configured) {
      const hash = TokensService.hash(configured);
      await this.tokens.createIfAbsent('bootstrap-admin', ['admin'], hash, configured.slice(0, 12));
      return null;
    }
    const admins = await this.tokens.countActiveAdmins();
    if (admins > 0) return null;
    const { secret } = await this.create('bootstrap-admin', ['admin']);
    return secret;
  }
}

/** how long a download link works */
export const LINK_TTL_SECONDS = 300;
/** clocks of API instances may differ by this much */
const LINK_CLOCK_SKEW_SECONDS = 30;

function linkMac(secret: string, tokenId: string, target: string, expires: number): string {
  return createHmac('sha256', secret)
    .update(`brine-link\n${tokenId}\n${target}\n${expires}`)
    .digest('base64url');
}
