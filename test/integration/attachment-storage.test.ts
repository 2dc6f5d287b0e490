import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBlobStorage, type BlobStorage } from '../../src/store/blob-storage.js';
import { S3BlobStorage } from '../../src/store/s3-blob-storage.js';
import { migrateToLatest, openDatabase, type Database } from '../../src/store/database.js';
import { createTestStore, type TestStore } from '../support/app.js';
import { startS3, type TestS3 } from '../support/s3-server.js';

/** The same contract, run against each backend: the store itself, and a real S3 server. */
const backends: {
  name: string;
  open: () => Promise<{ storage: BlobStorage; close: () => Promise<void> }>;
}[] = [
  {
    name: 'db',
    open: async () => {
      const store: TestStore = await createTestStore();
      const database: Database = openDatabase(store.url);
      await migrateToLatest(database);
      return {
        storage: openBlobStorage('db', database.db),
        close: async () => {
          await database.close();
          await store.drop();
        },
      };
    },
  },
  {
    name: 's3',
    open: async () => {
      const s3: TestS3 = await startS3();
      const storage = S3BlobStorage.fromUrl(s3.storageUrl);
      return {
        storage,
        close: async () => {
          await storage.close();
          await s3.stop();
        },
      };
    },
  },
];

describe.each(backends)('blob storage: $name', ({ open }) => {
  let storage: BlobStorage;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ storage, close } = await open());
  });
  afterAll(() => close());

  it('gives back exactly the bytes stored, across many chunks', async () => {
    const key = randomUUID();
    const data = randomBytes(1024 * 1024 + 123);
    await storage.put(key, data);
    expect((await storage.get(key))?.equals(data)).toBe(true);
  });

  it('stores an empty value and a one-byte value', async () => {
    const a = randomUUID();
    const b = randomUUID();
    await storage.put(a, Buffer.alloc(0));
    await storage.put(b, Buffer.from([7]));
    expect((await storage.get(a))?.length).toBe(0);
    expect([...(await storage.get(b))!]).toEqual([7]);
  });

  it('replaces a value written twice under one key', async () => {
    const key = randomUUID();
    await storage.put(key, randomBytes(600_000));
    const second = randomBytes(10);
    await storage.put(key, second);
    expect((await storage.get(key))?.equals(second)).toBe(true);
  });

  it('answers undefined for a key never stored, and after delete', async () => {
    const key = randomUUID();
    expect(await storage.get(key)).toBeUndefined();
    await storage.put(key, Buffer.from('x'));
    const other = randomUUID();
    await storage.put(other, Buffer.from('y'));
    await storage.delete([key, randomUUID()]);
    expect(await storage.get(key)).toBeUndefined();
    expect((await storage.get(other))?.toString()).toBe('y');
  });
});
