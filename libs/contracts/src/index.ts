export * from './names';
export * from './schemas';
export * from './routes';
export * from './openapi';
export * from './request';
export * from './endpoints';
export * from './strict';
