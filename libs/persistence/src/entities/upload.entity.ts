import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * An upload in progress. Written before any byte goes to the object store and deleted when the version is
 * committed or the upload fails; a row that outlives its process marks an object the janitor removes.
 */
@Entity('uploads')
export class UploadEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'object_key' }) objectKey!: string;
  @Column('text') checkpoint!: string;
  @Column('text') version!: string;
  @CreateDateColumn({ name: 'started_at', type: 'timestamptz' }) startedAt!: Date;
}
