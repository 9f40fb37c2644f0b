import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** The full scan report of a version (the JSON of `brine scan --json` for one file). */
@Entity('scan_reports')
export class ScanReportEntity {
  @PrimaryColumn('uuid', { name: 'version_id' }) versionId!: string;
  @Column('int') generation!: number;
  @Column('jsonb') report!: Record<string, unknown>;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
