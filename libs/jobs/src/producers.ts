/**
 * The queue producers: what the registry uses to queue work (scans, safetensors twins). They depend on the runtime
 * and the queue contracts only, so the registry can use them without loading the processors (which use the
 * registry).
 */
export * from './scan-queue.service';
export * from './twin-queue.service';
