import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * An upload in progress. Written before any byte goes to the object store and deleted when the version is
 * committed or the upload fails. Its process touches `heartbeatAt` while it streams; a row whose heartbeat
 * stopped marks a multipart upload and an object the sweeper removes.
 */
@Entity('uploads')
export class UploadEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'object_key' }) objectKey!: string;
  @Column('text') checkpoint!: string;
  @Column('text') version!: string;
  @CreateDateColumn({ name: 'started_at', type: 'timestamptz' }) startedAt!: Date;
  @Column('timestamptz', { name: 'heartbeat_at', default: () => 'now()' }) heartbeatAt!: Date;
  @Column('text', { name: 'multipart_id', nullable: true }) multipartId!: string | null;
}
