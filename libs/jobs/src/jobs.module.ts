import { Module } from '@nestjs/common';
import { Reconciler } from './reconciler.service';
import { ScanProcessor } from './scan-processor.service';
import { TwinProcessor } from './twin-processor.service';

/**
 * What processes queued work, over the registry's (global) services: the scan and twin processors and the
 * reconciler. It runs where scans are processed (the worker, or the API when it runs the worker too).
 */
@Module({
  providers: [ScanProcessor, TwinProcessor, Reconciler],
  exports: [ScanProcessor, TwinProcessor, Reconciler],
})
export class JobsModule {}
