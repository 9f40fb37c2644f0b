export * from './ssrf';
export * from './webhook-delivery.service';
export * from './webhooks.module';
export * from './webhooks.service';
