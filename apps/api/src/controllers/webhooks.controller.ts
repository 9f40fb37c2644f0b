import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { checkLimit, RequireScope, WebhooksService, type AuthedRequest } from '@brine/registry';

/** Webhook subscriptions and their delivery log (admin). */
@Controller('webhooks')
@RequireScope('admin')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  create(@Body() body: unknown, @Req() req: AuthedRequest) {
    return this.webhooks.create(body, req.token ?? null);
  }

  @Get()
  list() {
    return this.webhooks.list();
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.webhooks.get(id);
  }

  @Patch(':id')
  update(@Param('id') id: string, @Body() body: unknown) {
    return this.webhooks.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.webhooks.remove(id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  rotate(@Param('id') id: string, @Body() body: unknown) {
    return this.webhooks.rotate(id, body);
  }

  @Post(':id/test')
  @HttpCode(202)
  test(@Param('id') id: string) {
    return this.webhooks.test(id);
  }

  @Get(':id/deliveries')
  deliveries(@Param('id') id: string, @Query('limit') limit?: string) {
    return this.webhooks.deliveries(id, checkLimit(limit));
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  redeliver(@Param('id') id: string, @Param('deliveryId') deliveryId: string) {
    return this.webhooks.redeliver(id, deliveryId);
  }
}
