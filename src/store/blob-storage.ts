import type { Kysely } from 'kysely';
import type { DB } from './schema.js';
import { DbBlobStorage } from './db-blob-storage.js';
import { S3BlobStorage } from './s3-blob-storage.js';

/**
 * Where attachment bytes live, behind one interface: inside the store (default, so one
 * backup holds the whole practice) or an S3-compatible bucket. Keys are opaque random
 * ids chosen by the caller; a user's file name never reaches a backend.
 */
export interface BlobStorage {
  readonly kind: 'db' | 's3';
  put(key: string, data: Buffer): Promise<void>;
  /** The bytes, or undefined when nothing is stored under the key. */
  get(key: string): Promise<Buffer | undefined>;
  /** Removes the keys; keys that do not exist are ignored. */
  delete(keys: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** `db` or `s3://[accessKey:secret@]bucket[/prefix]?endpoint=…&region=…`. */
export function openBlobStorage(url: string, db: Kysely<DB>): BlobStorage {
  if (url === 'db') return new DbBlobStorage(db);
  if (url.startsWith('s3://')) return S3BlobStorage.fromUrl(url);
  throw new Error('STORAGE_URL must be db or s3://bucket?endpoint=…');
}
