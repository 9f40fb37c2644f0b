export * from './entities';
export { dataSourceOptions, ensureDatabase, openDatabase } from './data-source';
export * from './repositories';
