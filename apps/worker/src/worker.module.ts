import { Module, type DynamicModule } from '@nestjs/common';
import {
  loggingModule,
  ReconcilerModule,
  RegistryModule,
  type LogFormat,
  type Runtime,
} from '@brine/registry';
import { ScanWorker } from './scan.worker';
import { TwinWorker } from './twin.worker';
import { WebhookWorker } from './webhook.worker';

/** scan processing and the reconciler; `forRuntime` for a worker-only process */
@Module({ imports: [ReconcilerModule], providers: [ScanWorker, TwinWorker, WebhookWorker] })
export class WorkerModule {
  static forRuntime(rt: Runtime, logs: LogFormat = 'text'): DynamicModule {
    return {
      module: WorkerModule,
      imports: [loggingModule(logs, rt.config.logLevel), RegistryModule.forRuntime(rt), ReconcilerModule],
      providers: [ScanWorker, TwinWorker, WebhookWorker],
    };
  }
}
