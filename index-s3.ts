/** `audit-trail/s3`: the archive in an S3 bucket (AWS or an S3-compatible server), optionally encrypted. */
export { S3Store, type S3StoreOptions } from './consumers/object-store/s3-store.js';
export { EncryptingStore, parseEncryptionKey } from './consumers/object-store/encrypting-store.js';
export { type ObjectStore } from './consumers/object-store/object-store.js';
