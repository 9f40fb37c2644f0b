import { CheckpointEntity } from './checkpoint.entity';
import { FindingEntity } from './finding.entity';
import { ImportEntity } from './import.entity';
import { SafeGlobalEntity } from './safe-global.entity';
import { ScanReportEntity } from './scan-report.entity';
import { TokenEntity } from './token.entity';
import { TwinEntity } from './twin.entity';
import { UploadEntity } from './upload.entity';
import { VersionEntity } from './version.entity';

export {
  CheckpointEntity,
  FindingEntity,
  ImportEntity,
  SafeGlobalEntity,
  ScanReportEntity,
  TokenEntity,
  TwinEntity,
  UploadEntity,
  VersionEntity,
};
export type { Scope } from './token.entity';
export type { ScanStatus } from './version.entity';
export type { TwinStatus } from './twin.entity';

export const ENTITIES = [
  TokenEntity,
  CheckpointEntity,
  VersionEntity,
  ScanReportEntity,
  FindingEntity,
  ImportEntity,
  UploadEntity,
  SafeGlobalEntity,
  TwinEntity,
];
