import { Module, type DynamicModule } from '@nestjs/common';
import { JobsModule } from '@brine/jobs';
import { RegistryModule } from '@brine/registry';
import { loggingModule, type LogFormat, type Runtime } from '@brine/runtime';
import { WebhooksModule } from '@brine/webhooks';
import { ScanWorker } from './scan.worker';
import { TwinWorker } from './twin.worker';
import { WebhookWorker } from './webhook.worker';

/** scan, twin and webhook processing and the reconciler; `forRuntime` for a worker-only process */
@Module({ imports: [JobsModule, WebhooksModule], providers: [ScanWorker, TwinWorker, WebhookWorker] })
export class WorkerModule {
  static forRuntime(rt: Runtime, logs: LogFormat = 'text'): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        loggingModule(logs, rt.config.logLevel),
        RegistryModule.forRuntime(rt),
        JobsModule,
        WebhooksModule,
      ],
      providers: [ScanWorker, TwinWorker, WebhookWorker],
    };
  }
}
