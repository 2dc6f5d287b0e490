import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface TestS3 {
  /** A STORAGE_URL for the bucket, credentials included. */
  storageUrl: string;
  stop(): Promise<void>;
}

/** A real S3-compatible server (s3rver) on 127.0.0.1, with one empty bucket on disk. */
export async function startS3(bucket = 'carechat-test'): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'carechat-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const { port } = (await server.run()) as { port: number };
  return {
    // s3rver accepts its fixed development credentials.
    storageUrl: `s3://S3RVER:S3RVER@${bucket}?endpoint=http://127.0.0.1:${port}&region=us-east-1`,
    stop: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
