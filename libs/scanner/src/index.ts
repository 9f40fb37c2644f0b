export * from './report';
export * from './source';
export { scan, summarise, SCANNER_VERSION, type ScanInput } from './scanner';
export { DEFAULT_SCAN_LIMITS, type ScanLimits, type ScanOptions, type ScanProgress } from './scan-context';
export { threatOf } from './analysis/threats';
export { PROFILES, type TorchProfile } from './torch/profiles';
export { ALLOWLISTS } from './torch/allowlists.generated';
