import { createHash, randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  type RefreshFile,
  type RefreshManifest,
  RefreshManifestSchema,
  type RefreshSegment,
} from '#lib/domain/refresh-manifest.ts';
import {
  type DropFile,
  DropFileError,
  type FileFacts,
  fileFacts,
  MAX_ATTRIBUTES,
  openBody,
} from './refresh-file-facts.ts';
import { MultipartWriter, SINGLE_PUT_MAX_BYTES } from './s3-multipart.ts';

/*
 * A drop: one refresh folder written the way an upstream platform should write it
 * (`refreshes/<refreshId>/`, every segment's files first, `manifest.json` last), so its arrival
 * is the signal that the whole refresh is there.
 */

export { type DropFile, DropFileError } from './refresh-file-facts.ts';

export interface DropSegment {
  id: string;
  name: string;
  files: DropFile[];
}

export interface DropTarget {
  s3: S3Client;
  bucket: string;
}

export interface DropOptions {
  /** Default: `newRefreshId()`. */
  refreshId?: string;
  /** The manifest's `createdAt` (default now). */
  createdAt?: string;
  /** The column or key holding the profile id (default `id`): a file without it is refused. */
  idField?: string;
}

export interface DroppedRefresh {
  refreshId: string;
  /** `refreshes/<refreshId>/manifest.json`: the key whose arrival starts the refresh's runs. */
  manifestKey: string;
  manifest: RefreshManifest;
}

const MAX_REFRESH_ID = 128;
const REFRESH_ID_CHARS = /^[A-Za-z0-9._-]+$/;

/**
 * Refresh ids are one folder name of plain characters: no key encoding question can arise between
 * S3, its events and the ledger.
 */
export const checkRefreshId = (refreshId: string): void => {
  if (refreshId.length === 0 || refreshId.length > MAX_REFRESH_ID) {
    throw new DropFileError(`refresh id: must be 1–${MAX_REFRESH_ID} characters`);
  }
  if (!REFRESH_ID_CHARS.test(refreshId) || refreshId === '.' || refreshId === '..') {
    throw new DropFileError(`refresh id "${refreshId}": only letters, digits, ".", "_" and "-"`);
  }
};

/** Sortable by time (`20261203T151031123Z-9f3a`), unique enough for drops made by hand. */
export const newRefreshId = (nowMs: number = Date.now()): string =>
  `${new Date(nowMs).toISOString().replace(/[-:.]/g, '')}-${randomBytes(2).toString('hex')}`;

export const manifestKeyOf = (refreshId: string): string => `refreshes/${refreshId}/manifest.json`;

const sizeOf = async (file: DropFile): Promise<number> =>
  'path' in file.body ? (await stat(file.body.path)).size : file.body.bytes.byteLength;

/** Writes this small keep every part of a multipart drop under fauxqs's 11 MiB body limit. */
const WRITE_SLICE = 2 * 1024 * 1024;

/** Uploads one file, hashing exactly the bytes sent; answers their SHA-256. */
const upload = async (target: DropTarget, key: string, file: DropFile): Promise<string> => {
  const hash = createHash('sha256');
  const contentLength = await sizeOf(file);
  let sent = 0;
  const source = openBody(file.body);
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      sent += chunk.length;
      done(null, chunk);
    },
  });
  source.once('error', (error) => hashing.destroy(error));
  source.pipe(hashing);
  if (contentLength > SINGLE_PUT_MAX_BYTES) {
    // The local S3 refuses one body this large (S3 would take it): the same bytes go up in parts.
    const writer = new MultipartWriter(target.s3, target.bucket, key);
    // A body from memory arrives as one chunk, and the writer cuts parts only between writes.
    for await (const chunk of hashing) {
      const bytes = chunk as Buffer;
      for (let at = 0; at < bytes.length; at += WRITE_SLICE)
        await writer.write(bytes.subarray(at, at + WRITE_SLICE));
    }
    await writer.end();
  } else {
    await target.s3.send(
      new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: hashing, ContentLength: contentLength }),
    );
  }
  if (sent !== contentLength) {
    throw new DropFileError(
      `${file.label}: changed while it was uploaded (${sent} of ${contentLength} bytes)`,
    );
  }
  return hash.digest('hex');
};

const segmentAttributes = (facts: FileFacts[]): string[] | undefined => {
  const names = new Set<string>();
  for (const f of facts) {
    if (f.attributes === undefined) return undefined;
    for (const a of f.attributes) names.add(a);
  }
  return names.size > MAX_ATTRIBUTES ? undefined : [...names];
};

const problemsOf = (manifest: unknown): string[] => {
  const parsed = RefreshManifestSchema.safeParse(manifest);
  return parsed.success
    ? []
    : parsed.error.issues.map((i) => `manifest ${i.path.map(String).join('.')}: ${i.message}`);
};

/**
 * Writes a refresh: reads every file locally first (row counts, attributes, the id field present),
 * so a bad file fails the drop before anything is uploaded; then uploads each file, hashing it as it
 * goes; then the manifest, declaring rows and sha256, so the exporter's verify() checks them.
 */
export const dropRefresh = async (
  target: DropTarget,
  segments: readonly DropSegment[],
  options: DropOptions = {},
): Promise<DroppedRefresh> => {
  const refreshId = options.refreshId ?? newRefreshId();
  checkRefreshId(refreshId);
  const idField = options.idField ?? 'id';
  const prefix = `refreshes/${refreshId}/`;
  const createdAt = options.createdAt ?? new Date().toISOString();
  const facts: FileFacts[][] = [];
  for (const segment of segments) {
    const own: FileFacts[] = [];
    for (const file of segment.files) own.push(await fileFacts(file, idField));
    facts.push(own);
  }
  const draft = (sha: (s: number, f: number) => string | undefined): RefreshManifest => ({
    refreshId,
    createdAt,
    segments: segments.map((segment, s): RefreshSegment => {
      const attributes = segmentAttributes(facts[s] ?? []);
      return {
        id: segment.id,
        name: segment.name,
        files: segment.files.map((file, f): RefreshFile => {
          const sha256 = sha(s, f);
          return {
            key: file.key,
            format: file.format,
            ...(file.gzip ? { gzip: true } : {}),
            rows: facts[s]?.[f]?.rows ?? 0,
            ...(sha256 === undefined ? {} : { sha256 }),
          };
        }),
        ...(attributes === undefined ? {} : { attributes }),
      };
    }),
  });
  const before = problemsOf(draft(() => undefined));
  if (before.length > 0) throw new DropFileError(before.join('; '));

  const hashes: string[][] = [];
  for (const segment of segments) {
    const own: string[] = [];
    for (const file of segment.files) own.push(await upload(target, `${prefix}${file.key}`, file));
    hashes.push(own);
  }
  const manifest = draft((s, f) => hashes[s]?.[f]);
  const manifestKey = manifestKeyOf(refreshId);
  await target.s3.send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: manifestKey,
      Body: `${JSON.stringify(manifest, null, 2)}\n`,
      ContentType: 'application/json',
    }),
  );
  return { refreshId, manifestKey, manifest };
};
