export { fileBodyStream, LocalFileSource, sha256File } from './local-file-source';
export {
  ObjectStore,
  S3RangeSource,
  UploadTooLargeError,
  type ObjectStoreOptions,
  type UploadResult,
} from './object-store';
export { startEmbeddedS3, type EmbeddedS3 } from './embedded-s3';
