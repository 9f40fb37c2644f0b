import { Column, CreateDateColumn, Entity, JoinColumn, OneToOne, PrimaryColumn } from 'typeorm';
import { VersionEntity } from './version.entity';

export type TwinStatus = 'pending' | 'converting' | 'done' | 'skipped' | 'failed';

const bigint = {
  to: (v: number | null) => v,
  from: (v: string | null) => (v === null ? null : Number(v)),
};

/** The safetensors twin of a safe version: its state, and once written its object, SHA-256 and scan verdict. */
@Entity('twins')
export class TwinEntity {
  @PrimaryColumn('uuid', { name: 'version_id' }) versionId!: string;
  @OneToOne(() => VersionEntity, (v) => v.twin, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'version_id' })
  version?: VersionEntity;
  @Column('text') status!: TwinStatus;
  @Column('int') attempts!: number;
  @Column('text', { name: 'object_key', nullable: true }) objectKey!: string | null;
  @Column('char', { length: 64, nullable: true }) sha256!: string | null;
  @Column('bigint', { nullable: true, transformer: bigint }) size!: number | null;
  @Column('int', { nullable: true }) tensors!: number | null;
  @Column('jsonb') aliases!: Record<string, string>;
  @Column('jsonb', { name: 'left_out' }) leftOut!: Array<{ key: string; reason: string }>;
  @Column('text', { nullable: true }) verdict!: string | null;
  @Column('text', { nullable: true }) error!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt!: Date | null;
  /** touched while a conversion runs; a converting row whose heartbeat stopped is queued again */
  @Column('timestamptz', { name: 'heartbeat_at', nullable: true }) heartbeatAt!: Date | null;
}
