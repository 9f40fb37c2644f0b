import { Module, type DynamicModule } from '@nestjs/common';
import { ReconcilerModule, RegistryModule, type Runtime } from '@brine/registry';
import { ScanWorker } from './scan.worker';
import { WebhookWorker } from './webhook.worker';

/** scan processing and the reconciler; `forRuntime` for a worker-only process */
@Module({ imports: [ReconcilerModule], providers: [ScanWorker, WebhookWorker] })
export class WorkerModule {
  static forRuntime(rt: Runtime): DynamicModule {
    return {
      module: WorkerModule,
      imports: [RegistryModule.forRuntime(rt), ReconcilerModule],
      providers: [ScanWorker, WebhookWorker],
    };
  }
}
