export * from './ssrf';
export * from './webhook-delivery.service';
export * from './webhooks.service';
