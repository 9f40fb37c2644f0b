import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type Scope = 'read' | 'write' | 'admin';

/** An API token. Only the SHA-256 of the secret is stored; `prefix` identifies it in lists. */
@Entity('tokens')
export class TokenEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') name!: string;
  @Column('text') prefix!: string;
  @Column('text', { unique: true }) hash!: string;
  @Column('text', { array: true }) scopes!: Scope[];
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column('timestamptz', { name: 'last_used_at', nullable: true }) lastUsedAt!: Date | null;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt!: Date | null;
}
