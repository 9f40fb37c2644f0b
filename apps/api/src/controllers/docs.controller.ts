import { Controller, Get, Header, Inject } from '@nestjs/common';
import type { Config } from '@brine/config';
import { CONFIG } from '@brine/runtime';
import { Public } from '../auth.guard';
import { openApiDocument } from '@brine/contracts';

/** the OpenAPI document and a viewer (Swagger UI, served from this app: no CDN) */
@Controller('docs')
@Public()
export class DocsController {
  constructor(@Inject(CONFIG) private readonly config: Config) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Brine API</title>
<link rel="icon" href="data:,"><link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;
  }

  @Get('init.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  init(): string {
    return `window.ui = SwaggerUIBundle({ url: '/docs/openapi.json', dom_id: '#swagger-ui', persistAuthorization: true });`;
  }

  @Get('openapi.json')
  document() {
    return openApiDocument(this.config.publicUrl);
  }
}
