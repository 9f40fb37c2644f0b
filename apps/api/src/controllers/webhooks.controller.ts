import { Controller, Req } from '@nestjs/common';
import { ROUTES } from '@brine/contracts';
import { WebhooksService } from '@brine/webhooks';
import type { AuthedRequest } from '../auth.guard';
import { Endpoint, In, type Input } from '../endpoint';

/** Webhook subscriptions and their delivery log (admin). */
@Controller()
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Endpoint(ROUTES.createWebhook)
  create(@In() i: Input<typeof ROUTES.createWebhook>, @Req() req: AuthedRequest) {
    return this.webhooks.create(i.body, req.token ?? null);
  }

  @Endpoint(ROUTES.listWebhooks)
  list() {
    return this.webhooks.list();
  }

  @Endpoint(ROUTES.getWebhook)
  get(@In() i: Input<typeof ROUTES.getWebhook>) {
    return this.webhooks.get(i.params.id);
  }

  @Endpoint(ROUTES.updateWebhook)
  update(@In() i: Input<typeof ROUTES.updateWebhook>) {
    return this.webhooks.update(i.params.id, i.body);
  }

  @Endpoint(ROUTES.deleteWebhook)
  async remove(@In() i: Input<typeof ROUTES.deleteWebhook>): Promise<void> {
    await this.webhooks.remove(i.params.id);
  }

  @Endpoint(ROUTES.rotateSecret)
  rotate(@In() i: Input<typeof ROUTES.rotateSecret>) {
    return this.webhooks.rotate(i.params.id, i.body.graceSeconds);
  }

  @Endpoint(ROUTES.testWebhook)
  test(@In() i: Input<typeof ROUTES.testWebhook>) {
    return this.webhooks.test(i.params.id);
  }

  @Endpoint(ROUTES.deliveries)
  deliveries(@In() i: Input<typeof ROUTES.deliveries>) {
    return this.webhooks.deliveries(i.params.id, i.query.limit);
  }

  @Endpoint(ROUTES.redeliver)
  redeliver(@In() i: Input<typeof ROUTES.redeliver>) {
    return this.webhooks.redeliver(i.params.id, i.params.deliveryId);
  }
}
