import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A global a version's pickles import, graded allowed / suspicious / dangerous. */
@Entity('imports')
export class ImportEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('uuid', { name: 'version_id' }) versionId!: string;
  @Column('text') module!: string;
  @Column('text') name!: string;
  @Column('text', { name: 'class' }) cls!: string;
  @Column('int') count!: number;
  @Column('text', { array: true }) calls!: string[];
  @Column('text', { name: 'first_entry', nullable: true }) firstEntry!: string | null;
  @Column('bigint', { name: 'first_offset' }) firstOffset!: string;
}
