import {
  DeleteObjectsCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { BlobStorage } from './blob-storage.js';

/**
 * Bytes in an S3-compatible bucket (AWS SDK v3). Credentials come from the URL's user
 * part when given, otherwise from the SDK's usual chain (AWS_ACCESS_KEY_ID, roles, …).
 */
export class S3BlobStorage implements BlobStorage {
  readonly kind = 's3';

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  static fromUrl(raw: string): S3BlobStorage {
    const url = new URL(raw);
    const bucket = url.hostname;
    if (!bucket) throw new Error('STORAGE_URL names no bucket');
    const endpoint = url.searchParams.get('endpoint') ?? undefined;
    const region = url.searchParams.get('region') ?? process.env.AWS_REGION ?? 'us-east-1';
    const client = new S3Client({
      region,
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
      ...(url.username
        ? {
            credentials: {
              accessKeyId: decodeURIComponent(url.username),
              secretAccessKey: decodeURIComponent(url.password),
            },
          }
        : {}),
    });
    const prefix = url.pathname.replace(/^\/+/, '').replace(/\/*$/, '');
    return new S3BlobStorage(client, bucket, prefix ? `${prefix}/` : '');
  }

  async put(key: string, data: Buffer): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.prefix + key,
        Body: data,
        ContentType: 'application/octet-stream',
      }),
    );
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }),
      );
      if (!out.Body) return undefined;
      return Buffer.from(await out.Body.transformToByteArray());
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') {
        return undefined;
      }
      throw err;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((k) => ({ Key: this.prefix + k })) },
        }),
      );
    }
  }

  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }
}
