export * from './safetensors-layout';
export * from './twin-plan';
export * from './tensor-bytes';
export * from './convert';
export * from './block-cache';
