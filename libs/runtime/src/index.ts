export * from './dependency-errors';
export * from './dependency-wait';
export * from './logging';
export * from './runtime';
export * from './shutdown';
export * from './tokens';
