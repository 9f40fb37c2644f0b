import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('findings')
export class FindingEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('uuid', { name: 'version_id' }) versionId!: string;
  @Column('text') severity!: string;
  @Column('text') rule!: string;
  @Column('text', { nullable: true }) entry!: string | null;
  @Column('bigint', { name: 'byte_offset', nullable: true }) offset!: string | null;
  @Column('text', { nullable: true }) opcode!: string | null;
  @Column('text', { nullable: true }) module!: string | null;
  @Column('text', { nullable: true }) name!: string | null;
  @Column('text') message!: string;
}
