import { Logger, Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { dataSourceOptions, ENTITIES, REPOSITORIES } from '@brine/persistence';
import { QueueHandle, scanQueue, twinQueue, webhookQueue } from '@brine/queue';
import { ObjectStore } from '@brine/storage';
import { ScanQueueService, TwinQueueService } from '@brine/jobs/producers';
import {
  CONFIG,
  LINK_SECRET,
  ProcessShutdown,
  QuietLog,
  REDIS,
  REDIS_PRODUCER,
  RUNTIME,
  SCAN_QUEUE_TOKEN,
  TWIN_QUEUE_TOKEN,
  WEBHOOK_QUEUE_TOKEN,
  type Runtime,
} from '@brine/runtime';
import { CheckpointsService } from './checkpoints.service';
import { CardsService } from './cards.service';
import { DiffService } from './diff.service';
import { EventsService } from './events.service';
import { HealthService } from './health.service';
import { MetricsService } from './metrics.service';
import { PolicyService } from './policy.service';
import { RetentionService } from './retention.service';
import { TagsService } from './tags.service';
import { TelemetryService } from './telemetry.service';
import { TokensService } from './tokens.service';

const SERVICES = [
  TokensService,
  EventsService,
  TagsService,
  ScanQueueService,
  CheckpointsService,
  DiffService,
  RetentionService,
  CardsService,
  PolicyService,
  HealthService,
  TwinQueueService,
  MetricsService,
  TelemetryService,
];

/** one repository per table, on the data source's manager (`in(tx)` binds one to a transaction) */
const REPOSITORY_PROVIDERS = REPOSITORIES.map((R) => ({
  provide: R,
  useFactory: (ds: DataSource) => new R(ds.manager),
  inject: [DataSource],
}));

/** one rate-limited log for what the producer queues report while Redis is away */
const queueLog = new QuietLog(new Logger('Queues'));

/**
 * The registry's services over an opened runtime (database, object store, Redis), with the table repositories and
 * the queue producers; global, so the jobs and webhooks modules and the apps' controllers use them.
 */
@Module({})
export class RegistryModule {
  static forRuntime(rt: Runtime): DynamicModule {
    return {
      module: RegistryModule,
      global: true,
      imports: [
        // the configuration was parsed from the environment with its schema (@brine/config's ENV) before the
        // runtime opened its connections; Nest's ConfigService serves that same object
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ ...rt.config })] }),
        TypeOrmModule.forRootAsync({
          useFactory: () =>
            dataSourceOptions(rt.config.databaseUrl, { queryTimeoutMs: rt.config.dbTimeoutMs }),
          dataSourceFactory: async () => rt.dataSource,
        }),
        TypeOrmModule.forFeature(ENTITIES),
      ],
      providers: [
        // services inject the typed object; ConfigService.get('s3', { infer: true }) reads the same values
        { provide: RUNTIME, useValue: rt },
        ProcessShutdown,
        { provide: CONFIG, useValue: rt.config },
        { provide: ObjectStore, useValue: rt.store },
        { provide: REDIS, useValue: rt.redis },
        { provide: REDIS_PRODUCER, useValue: rt.redisProducer },
        { provide: LINK_SECRET, useValue: rt.secret },
        {
          provide: SCAN_QUEUE_TOKEN,
          useFactory: () =>
            new QueueHandle(
              () => scanQueue(rt.redisProducer, rt.config.queuePrefix),
              (e) => queueLog.warn('scans', `scan queue: ${e.message}`),
              rt.config.redisTimeoutMs,
            ),
        },
        {
          provide: TWIN_QUEUE_TOKEN,
          useFactory: () =>
            new QueueHandle(
              () => twinQueue(rt.redisProducer, rt.config.queuePrefix),
              (e) => queueLog.warn('twins', `twin queue: ${e.message}`),
              rt.config.redisTimeoutMs,
            ),
        },
        {
          provide: WEBHOOK_QUEUE_TOKEN,
          useFactory: () =>
            new QueueHandle(
              () => webhookQueue(rt.redisProducer, rt.config.queuePrefix),
              (e) => queueLog.warn('webhooks', `webhook queue: ${e.message}`),
              rt.config.redisTimeoutMs,
            ),
        },
        ...REPOSITORY_PROVIDERS,
        ...SERVICES,
      ],
      exports: [
        CONFIG,
        ObjectStore,
        REDIS,
        REDIS_PRODUCER,
        SCAN_QUEUE_TOKEN,
        TWIN_QUEUE_TOKEN,
        WEBHOOK_QUEUE_TOKEN,
        TypeOrmModule,
        ...REPOSITORIES,
        ...SERVICES,
      ],
    };
  }
}
