export * from './names';
export * from './schemas';
export * from './routes';
export * from './openapi';
