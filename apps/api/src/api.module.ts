import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ContractInterceptor } from './endpoint';
import { RegistryModule } from '@brine/registry';
import { loggingModule, type LogFormat, type Runtime } from '@brine/runtime';
import { WebhooksModule } from '@brine/webhooks';
import { AuthGuard } from './auth.guard';
import { WorkerModule } from '../../worker/src/worker.module';
import { CheckpointsController } from './controllers/checkpoints.controller';
import { DiffController } from './controllers/diff.controller';
import { CardsController } from './controllers/cards.controller';
import { DocsController } from './controllers/docs.controller';
import { RetentionController } from './controllers/retention.controller';
import { HealthController } from './controllers/health.controller';
import { PolicyController } from './controllers/policy.controller';
import { TagsController } from './controllers/tags.controller';
import { TokensController } from './controllers/tokens.controller';
import { WebhooksController } from './controllers/webhooks.controller';
import { HttpErrorFilter } from './http-error.filter';

/** The HTTP API; with `withWorker` (the quick start) the same process also runs the scan worker and reconciler. */
@Module({})
export class ApiModule {
  static forRuntime(rt: Runtime, withWorker: boolean, logs: LogFormat = 'off'): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        loggingModule(logs, rt.config.logLevel),
        RegistryModule.forRuntime(rt),
        WebhooksModule,
        ...(withWorker ? [WorkerModule] : []),
      ],
      // TagsController first: /checkpoints/:name/tags/… must not be read as /checkpoints/:name/:version/…
      controllers: [
        HealthController,
        DocsController,
        TagsController,
        DiffController,
        RetentionController,
        CardsController,
        CheckpointsController,
        TokensController,
        PolicyController,
        WebhooksController,
      ],
      providers: [
        AuthGuard,
        { provide: APP_GUARD, useExisting: AuthGuard },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: APP_INTERCEPTOR, useClass: ContractInterceptor },
      ],
    };
  }
}
