export * from './jobs.module';
export * from './producers';
export * from './reconciler.service';
export * from './scan-processor.service';
export * from './twin-processor.service';
