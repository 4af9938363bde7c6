import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

/**
 * S3 accepts parts of at least 5 MiB (but the last); fauxqs refuses request bodies over 11 MiB,
 * so a large object goes up as a multipart upload in parts between the two.
 */
const PART_BYTES = 8 * 1024 * 1024;

/** Above this, a local drop goes up in parts: fauxqs refuses single request bodies over 11 MiB. */
export const SINGLE_PUT_MAX_BYTES = PART_BYTES;

/**
 * Writes one object as it is produced, a part at a time, so neither the producer nor this process
 * ever holds the whole file (a 1,000,000-row file is ~150 MB of text).
 */
export class MultipartWriter {
  private uploadId: string | undefined;
  private readonly parts: Array<{ PartNumber: number; ETag: string }> = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes written so far (the object's size once `end()` resolved). */
  bytes = 0;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly key: string,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
    // Copied: a writer may reuse its buffer once this resolves.
    this.pending.push(Buffer.from(chunk));
    this.pendingBytes += chunk.length;
    this.bytes += chunk.length;
    if (this.pendingBytes >= PART_BYTES) await this.flushPart();
  }

  /** Uploads what is left and completes the object; returns its ETag. */
  async end(): Promise<string> {
    try {
      if (this.pendingBytes > 0 || this.parts.length === 0) await this.flushPart();
      const out = await this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: await this.start(),
          MultipartUpload: { Parts: this.parts },
        }),
      );
      return out.ETag ?? '';
    } catch (error) {
      await this.abort();
      throw error;
    }
  }

  async abort(): Promise<void> {
    if (this.uploadId === undefined) return;
    await this.s3
      .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId }))
      .catch(() => undefined);
    this.uploadId = undefined;
  }

  private async start(): Promise<string> {
    if (this.uploadId === undefined) {
      const out = await this.s3.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key }),
      );
      if (!out.UploadId) throw new Error(`s3://${this.bucket}/${this.key}: no upload id returned`);
      this.uploadId = out.UploadId;
    }
    return this.uploadId;
  }

  private async flushPart(): Promise<void> {
    const body = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    const PartNumber = this.parts.length + 1;
    const out = await this.s3.send(
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: this.key,
        UploadId: await this.start(),
        PartNumber,
        Body: body,
      }),
    );
    this.parts.push({ PartNumber, ETag: out.ETag ?? '' });
  }
}
