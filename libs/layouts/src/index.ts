export * from './manifest';
export * from './loaders';
export * from './dcp';
export * from './folder';
export * from './dcp-metadata';
