export const CONFIG = Symbol('brine:config');
export const REDIS = Symbol('brine:redis');
export const SCAN_QUEUE_TOKEN = Symbol('brine:scan-queue');
export const WEBHOOK_QUEUE_TOKEN = Symbol('brine:webhook-queue');
