import { api, ErrorBody } from './schemas/common';
import { Health } from './schemas/health';
import { CheckpointSummary, Verdicts } from './schemas/checkpoints';
import {
  CheckpointList,
  DownloadLink,
  Rescanning,
  ScanReport,
  ScanView,
  TwinView,
  VersionListing,
  VersionView,
  WeightsOnly,
} from './schemas/versions';
import { VersionDiff } from './schemas/diffs';
import { BestRule, BestRuleHolder, BestRuleResult, TagMove, TagView } from './schemas/tags';
import { CardPut, CardView } from './schemas/cards';
import { RetentionLogEntry, RetentionPlan, RetentionRule } from './schemas/retention';
import { NewToken, TokenView } from './schemas/tokens';
import { SafeGlobalChange, SafeGlobalView } from './schemas/policy';
import {
  AttemptView,
  DeliveryView,
  NewWebhook,
  WebhookCreate,
  WebhookFilter,
  WebhookPatch,
  WebhookView,
} from './schemas/webhooks';

/**
 * Every shape the HTTP API takes and returns, declared once with zod, one file per resource in schemas/: the API
 * validates requests with these schemas, the OpenAPI document is generated from them (and the Python client from
 * that), and the dashboard and the CLI use the types inferred from them. Schemas with an `id` become named OpenAPI
 * components, registered below in the order the document lists them.
 */
export * from './schemas/common';
export * from './schemas/health';
export * from './schemas/checkpoints';
export * from './schemas/versions';
export * from './schemas/diffs';
export * from './schemas/tags';
export * from './schemas/cards';
export * from './schemas/retention';
export * from './schemas/tokens';
export * from './schemas/policy';
export * from './schemas/webhooks';

for (const s of [
  ErrorBody,
  Health,
  Verdicts,
  CheckpointSummary,
  CheckpointList,
  WeightsOnly,
  ScanView,
  TwinView,
  VersionView,
  VersionListing,
  ScanReport,
  VersionDiff,
  RetentionRule,
  RetentionPlan,
  RetentionLogEntry,
  CardPut,
  CardView,
  DownloadLink,
  TagView,
  TagMove,
  BestRule,
  BestRuleHolder,
  BestRuleResult,
  TokenView,
  NewToken,
  SafeGlobalView,
  SafeGlobalChange,
  Rescanning,
  WebhookFilter,
  WebhookCreate,
  WebhookPatch,
  WebhookView,
  NewWebhook,
  AttemptView,
  DeliveryView,
])
  api.add(s, { id: (s.meta() as { id: string }).id });
