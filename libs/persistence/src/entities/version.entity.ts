import {
  Column,
  CreateDateColumn,
  Entity,
  ManyToOne,
  JoinColumn,
  OneToOne,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { CheckpointEntity } from './checkpoint.entity';
import { TwinEntity } from './twin.entity';

export type ScanStatus = 'pending' | 'scanning' | 'done' | 'failed';

/** An immutable upload of one checkpoint file, and the state of its scan. */
@Entity('versions')
@Unique('versions_checkpoint_version', ['checkpointId', 'version'])
export class VersionEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'checkpoint_id' }) checkpointId!: string;
  @ManyToOne(() => CheckpointEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'checkpoint_id' })
  checkpoint?: CheckpointEntity;
  @Column('text') version!: string;
  @Column('char', { length: 64 }) sha256!: string;
  @Column('bigint', { transformer: { to: (v: number) => v, from: (v: string) => Number(v) } }) size!: number;
  @Column('text', { name: 'object_key' }) objectKey!: string;
  @Column('text', { nullable: true }) filename!: string | null;
  @Column('text', { name: 'framework_version', nullable: true }) frameworkVersion!: string | null;
  @Column('jsonb', { default: {} }) metadata!: Record<string, unknown>;
  @Column('jsonb', { default: {} }) metrics!: Record<string, number>;
  /** parent, gitCommit, runUrl, dataset: where the version came from (set at upload) */
  @Column('jsonb', { default: {} }) lineage!: Partial<
    Record<'parent' | 'gitCommit' | 'runUrl' | 'dataset', string>
  >;
  @Column('uuid', { name: 'uploaded_by', nullable: true }) uploadedBy!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column('text', { name: 'scan_status' }) scanStatus!: ScanStatus;
  @Column('int', { name: 'scan_generation', default: 1 }) scanGeneration!: number;
  @Column('int', { name: 'scan_attempts', default: 0 }) scanAttempts!: number;
  @Column('text', { name: 'scan_error', nullable: true }) scanError!: string | null;
  @Column('timestamptz', { name: 'scan_started_at', nullable: true }) scanStartedAt!: Date | null;
  @Column('timestamptz', { name: 'scan_finished_at', nullable: true }) scanFinishedAt!: Date | null;
  @Column('text', { nullable: true }) verdict!: string | null;
  @Column('text', { nullable: true }) kind!: string | null;
  @Column('text', { nullable: true }) format!: string | null;
  @Column('jsonb', { name: 'weights_only', nullable: true }) weightsOnly!: Record<string, unknown> | null;
  @Column('text', { nullable: true }) summary!: string | null;
  @Column('int', { name: 'tensor_count', nullable: true }) tensorCount!: number | null;
  @Column('bigint', {
    name: 'parameter_count',
    nullable: true,
    transformer: { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) },
  })
  parameterCount!: number | null;
  /** the safetensors twin, when one was planned (load it with relations: { twin: true }) */
  @OneToOne(() => TwinEntity, (t) => t.version)
  twin?: TwinEntity | null;
}
