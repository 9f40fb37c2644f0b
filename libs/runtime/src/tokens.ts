export const CONFIG = Symbol('brine:config');
export const REDIS = Symbol('brine:redis');
/** the fail-fast Redis connection (see producerConnection) */
export const REDIS_PRODUCER = Symbol('brine:redis-producer');
export const SCAN_QUEUE_TOKEN = Symbol('brine:scan-queue');
export const TWIN_QUEUE_TOKEN = Symbol('brine:twin-queue');
export const WEBHOOK_QUEUE_TOKEN = Symbol('brine:webhook-queue');
/** the key that signs download links (Runtime.secret) */
export const LINK_SECRET = Symbol('brine:link-secret');
