export { LocalFileSource, sha256File } from './local-file-source';
