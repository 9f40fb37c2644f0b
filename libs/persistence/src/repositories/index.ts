import { CheckpointsRepository } from './checkpoints.repository';
import { DeliveriesRepository, DeliveryAttemptsRepository } from './deliveries.repository';
import { EventsRepository } from './events.repository';
import { RetentionLogRepository, RetentionRulesRepository } from './retention.repository';
import { SafeGlobalsRepository } from './safe-globals.repository';
import { FindingsRepository, ImportsRepository, ScanReportsRepository } from './scan-results.repository';
import { TagHistoryRepository, TagsRepository } from './tags.repository';
import { TokensRepository } from './tokens.repository';
import { TwinsRepository } from './twins.repository';
import { ObjectDeletionsRepository, UploadsRepository } from './uploads.repository';
import { VersionsRepository } from './versions.repository';
import { WebhooksRepository } from './webhooks.repository';

export * from './checkpoints.repository';
export * from './deliveries.repository';
export * from './events.repository';
export * from './retention.repository';
export * from './safe-globals.repository';
export * from './scan-results.repository';
export * from './tags.repository';
export * from './table-repository';
export * from './tokens.repository';
export * from './twins.repository';
export * from './uploads.repository';
export * from './versions.repository';
export * from './webhooks.repository';

/** one repository per table; each is constructed with the data source's EntityManager */
export const REPOSITORIES = [
  CheckpointsRepository,
  VersionsRepository,
  TagsRepository,
  TagHistoryRepository,
  ScanReportsRepository,
  FindingsRepository,
  ImportsRepository,
  TwinsRepository,
  UploadsRepository,
  ObjectDeletionsRepository,
  RetentionRulesRepository,
  RetentionLogRepository,
  SafeGlobalsRepository,
  TokensRepository,
  EventsRepository,
  WebhooksRepository,
  DeliveriesRepository,
  DeliveryAttemptsRepository,
] as const;
