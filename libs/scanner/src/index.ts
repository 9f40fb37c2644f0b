export * from './report';
export { scan, summarise, SCANNER_VERSION, type ScanInput } from './scanner';
export {
  DEFAULT_SCAN_LIMITS,
  type ScanCapture,
  type ScanLimits,
  type ScanOptions,
  type ScanProgress,
} from './scan-context';
export { threatOf } from './analysis/threats';
export { PROFILES, type TorchProfile } from './torch/profiles';
export { ALLOWLISTS } from './torch/allowlists.generated';
export { rootLayout } from './analysis/load-recipes';
export { DTYPES } from './torch/dtypes';
export { diffReports, DIFF_LIST_LIMIT, type ReportDiff, type TensorBrief } from './analysis/report-diff';
export {
  harmlessEntry,
  originOf,
  recipeGlobal,
  recipeGlobals,
  reviewedRuntimes,
  type HarmlessEntry,
} from './analysis/harmless';
