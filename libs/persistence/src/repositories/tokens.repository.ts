import { IsNull } from 'typeorm';
import { TokenEntity, type Scope } from '../entities/token.entity';
import { TableRepository } from './table-repository';

/** The `tokens` table: API tokens, stored as the SHA-256 of their secrets. */
export class TokensRepository extends TableRepository {
  private get repo() {
    return this.m.getRepository(TokenEntity);
  }

  async create(name: string, scopes: Scope[], hash: string, prefix: string): Promise<TokenEntity> {
    return this.repo.save(
      this.repo.create({ name, scopes, hash, prefix, lastUsedAt: null, revokedAt: null }),
    );
  }

  /** registers a token with a known hash unless it exists */
  async createIfAbsent(name: string, scopes: Scope[], hash: string, prefix: string): Promise<void> {
    await this.repo.createQueryBuilder().insert().values({ name, scopes, hash, prefix }).orIgnore().execute();
  }

  /** the token with this hash, unless it was revoked */
  async activeByHash(hash: string): Promise<TokenEntity | null> {
    return this.repo.findOne({ where: { hash, revokedAt: IsNull() } });
  }

  /** the token with this id, unless it was revoked */
  async active(id: string): Promise<TokenEntity | null> {
    return this.repo.findOne({ where: { id, revokedAt: IsNull() } });
  }

  async find(id: string): Promise<TokenEntity | null> {
    return this.repo.findOne({ where: { id } });
  }

  async list(): Promise<TokenEntity[]> {
    return this.repo.find({ order: { createdAt: 'ASC' } });
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.repo.update(id, { lastUsedAt: at });
  }

  async revoke(token: TokenEntity, at: Date): Promise<void> {
    token.revokedAt = at;
    await this.repo.save(token);
  }

  async countActiveAdmins(): Promise<number> {
    return this.repo
      .createQueryBuilder('t')
      .where(`'admin' = ANY(t.scopes)`)
      .andWhere('t.revoked_at IS NULL')
      .getCount();
  }

  /** the names of tokens by id (a person reads "ci-pipeline", not a UUID) */
  async names(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.rows<{ id: string; name: string }>(
      'SELECT id, name FROM tokens WHERE id = ANY($1)',
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.name]));
  }
}
