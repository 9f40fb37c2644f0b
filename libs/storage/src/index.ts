export { fileBodyStream, LocalFileSource, sha256File } from './local-file-source';
export {
  abandonedUpload,
  ObjectStore,
  S3RangeSource,
  StorageStreamError,
  UploadTooLargeError,
  type ObjectStoreOptions,
  type UploadResult,
} from './object-store';
export { startEmbeddedS3, type EmbeddedS3, type PartDiscard } from './embedded-s3';
export { StorageTimeoutError, type S3Waits } from './s3-waits';
