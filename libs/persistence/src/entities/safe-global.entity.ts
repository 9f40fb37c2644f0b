import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** An operator-approved global, as torch.serialization.add_safe_globals would add it. */
@Entity('safe_globals')
export class SafeGlobalEntity {
  @PrimaryColumn('text') name!: string;
  @Column('text', { nullable: true }) note!: string | null;
  @Column('uuid', { name: 'added_by', nullable: true }) addedBy!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
