import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3SegmentSource } from '#lib/adapters/segments/s3-segment-source.ts';
import { UsageError } from '#local/autopilot-standin/cli-args.ts';
import { parseDropOptions } from '#local/cli/drop.ts';
import { DropFileError, dropRefresh } from '#local/refresh-drop.ts';
import { readRefreshFolder } from '#local/refresh-folder.ts';
import { uniqueName } from '#test/support/aws.ts';
import { asCsv, asJsonl, asParquet, createBucket, gzip, localS3, someProfiles } from '#test/support/s3.ts';
import { readWholeSegment } from '#test/support/segment-pages.ts';

/** Issue 12, item 5: `npm run drop` turns a folder of a user's own files into a refresh. */

let s3: S3Client;
let bucket: string;
let root: string;

beforeAll(async () => {
  s3 = localS3();
  bucket = await createBucket(s3);
  root = await mkdtemp(join(tmpdir(), 'drop-'));
});
afterAll(async () => {
  s3.destroy();
  await rm(root, { recursive: true, force: true });
});

const folder = async (name: string, files: Record<string, string | Uint8Array>): Promise<string> => {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [file, body] of Object.entries(files)) await writeFile(join(dir, file), body);
  return dir;
};

const runDrop = async (argv: string[]) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/cli/drop.ts', ...argv], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const [code] = await once(child, 'exit');
  return { code: code as number, stdout, stderr };
};

const keysUnder = async (prefix: string): Promise<string[]> => {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key ?? '');
};

describe('npm run drop', () => {
  const vip = someProfiles('v', 23);
  const newsletter = someProfiles('n', 17);
  const active = someProfiles('a', 9);

  it('drops csv.gz, jsonl and parquet files as a refresh that verifies and reads back exactly', async () => {
    const dir = await folder('good', {
      'vip-customers.csv.gz': gzip(asCsv(vip)),
      'newsletter.jsonl': asJsonl(newsletter),
      'active.parquet': asParquet(active),
      'segments.json': JSON.stringify([{ id: 'vip-customers', name: 'VIP customers' }]),
      '.DS_Store': 'finder litter',
    });
    const refreshId = uniqueName('mine');
    const endpoint = inject('sqsEndpoint');
    const out = await runDrop([
      '--dir',
      dir,
      '--bucket',
      bucket,
      '--endpoint',
      endpoint,
      '--refresh-id',
      refreshId,
    ]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`Refresh ${refreshId} dropped into s3://${bucket}/refreshes/${refreshId}/`);
    expect(out.stdout).toContain('vip-customers "VIP customers": 23 rows');

    const source = new S3SegmentSource({ client: s3, bucket, refreshId });
    await expect(source.verify()).resolves.toBeUndefined();
    const listed = await source.listSegments();
    expect(listed.map((s) => [s.id, s.name, s.profiles]).sort()).toEqual([
      ['active', 'active', 9],
      ['newsletter', 'newsletter', 17],
      ['vip-customers', 'VIP customers', 23],
    ]);
    for (const s of listed) expect(s.attributes?.sort()).toEqual(['city', 'email']);
    // Pages of 5 cross every file's boundaries, and Parquet's row groups of 4.
    expect(await readWholeSegment(source, 'vip-customers', 5)).toEqual({ profiles: vip, skipped: [] });
    expect(await readWholeSegment(source, 'newsletter', 5)).toEqual({ profiles: newsletter, skipped: [] });
    expect(await readWholeSegment(source, 'active', 5)).toEqual({ profiles: active, skipped: [] });
  });

  it('drops a file larger than one local PUT takes (12 MiB) in parts, and it verifies and reads back whole', async () => {
    // 60,000 rows of ~210 bytes: fauxqs refused this as one PutObject (413) before drops went up in parts.
    const big = Array.from({ length: 60_000 }, (_, i) => ({
      id: `big-${i}`,
      attributes: { email: `big${i}@example.com`, city: `${'x'.repeat(150)}${i}` },
    }));
    const dir = await folder('big', { 'big.jsonl': asJsonl(big) });
    const refreshId = uniqueName('big');

    const out = await runDrop([
      '--dir',
      dir,
      '--bucket',
      bucket,
      '--endpoint',
      inject('sqsEndpoint'),
      '--refresh-id',
      refreshId,
    ]);

    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const source = new S3SegmentSource({ client: s3, bucket, refreshId });
    await expect(source.verify()).resolves.toBeUndefined();
    const read = await readWholeSegment(source, 'big', 20_000);
    expect(read.profiles.length).toBe(60_000);
    expect(read.profiles[59_999]).toEqual(big[59_999]);
  });

  it('drops a large file held in memory (one 12 MiB chunk) in parts too', async () => {
    const big = Array.from({ length: 60_000 }, (_, i) => ({
      id: `mem-${i}`,
      attributes: { email: `mem${i}@example.com`, city: `${'y'.repeat(150)}${i}` },
    }));
    const bytes = new TextEncoder().encode(asJsonl(big));
    const file = {
      key: 'mem.jsonl',
      format: 'jsonl' as const,
      gzip: false,
      body: { bytes },
      label: 'mem.jsonl',
    };

    const { refreshId } = await dropRefresh({ s3, bucket }, [
      { id: 'mem', name: 'In memory', files: [file] },
    ]);

    const source = new S3SegmentSource({ client: s3, bucket, refreshId });
    await expect(source.verify()).resolves.toBeUndefined();
    expect((await readWholeSegment(source, 'mem', 30_000)).profiles.length).toBe(60_000);
  });

  it('declares rows and sha256 for every file, so a file changed after the drop fails verification', async () => {
    const dir = await folder('tamper', { 'vip.jsonl': asJsonl(vip) });
    const refreshId = uniqueName('tamper');
    const dropped = await dropRefresh({ s3, bucket }, await readRefreshFolder(dir), { refreshId });
    const file = dropped.manifest.segments[0]?.files[0];
    expect(file).toMatchObject({ key: 'vip.jsonl', format: 'jsonl', rows: 23, sha256: expect.any(String) });
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `refreshes/${refreshId}/vip.jsonl`,
        Body: asJsonl(vip.slice(1)),
      }),
    );
    await expect(new S3SegmentSource({ client: s3, bucket, refreshId }).verify()).rejects.toThrow(
      /rows: declared 23, the file has 22/,
    );
  });

  it('writes the manifest after every file', async () => {
    const dir = await folder('order', { 'b.csv': asCsv(vip), 'a.jsonl': asJsonl(active) });
    const refreshId = uniqueName('order');
    const order: string[] = [];
    const recording = {
      send: async (command: { input: { Key?: string } }) => {
        order.push(command.input.Key ?? '');
        return s3.send(command as never);
      },
    } as unknown as S3Client;
    await dropRefresh({ s3: recording, bucket }, await readRefreshFolder(dir), { refreshId });
    expect(order).toEqual([
      `refreshes/${refreshId}/a.jsonl`,
      `refreshes/${refreshId}/b.csv`,
      `refreshes/${refreshId}/manifest.json`,
    ]);
  });

  it.each([
    ['an empty folder', {}, /empty: no segment files \(expected files ending in \.csv/],
    [
      'a file of unknown format',
      { 'vip.csv': asCsv(vip), 'notes.txt': 'hi' },
      /notes\.txt: unknown extension/,
    ],
    [
      'a CSV file without the id column',
      { 'vip.csv': 'email,city\nx@example.com,Lyon\n' },
      /vip\.csv: the header has no "id" column/,
    ],
    [
      'a Parquet file without the id column',
      {
        'vip.parquet': new Uint8Array(
          parquetWriteBuffer({ columnData: [{ name: 'email', data: ['x@example.com'], type: 'STRING' }] }),
        ),
      },
      /vip\.parquet: no "id" column/,
    ],
    [
      'a file that is not Parquet',
      { 'vip.parquet': 'id,email\n' },
      /vip\.parquet: not a readable Parquet file/,
    ],
    ['a .gz file that is not gzip', { 'vip.csv.gz': asCsv(vip) }, /vip\.csv\.gz: not valid gzip/],
    [
      'a JSONL file whose rows have no id',
      { 'vip.jsonl': '{"email":"x@example.com"}\n' },
      /no row has an "id"/,
    ],
    [
      'two files for one segment',
      { 'vip.csv': asCsv(vip), 'vip.jsonl': asJsonl(vip) },
      /segment "vip" again/,
    ],
    ['a sub-folder', { 'sub/vip.csv': asCsv(vip) }, /sub: a folder/],
    [
      'names for a segment with no file',
      { 'vip.csv': asCsv(vip), 'segments.json': '[{"id":"gone","name":"Gone"}]' },
      /segments\.json: segment "gone" has no file/,
    ],
  ] as const)(
    'refuses %s, naming the file and the reason, and uploads nothing',
    async (what, files, reason) => {
      const name = what.replaceAll(' ', '-');
      const dir = await folder(name === 'an-empty-folder' ? 'empty' : name, {});
      for (const [file, body] of Object.entries(files)) {
        await mkdir(join(dir, file, '..'), { recursive: true });
        await writeFile(join(dir, file), body);
      }
      const refreshId = uniqueName('bad');
      const attempt = async () => dropRefresh({ s3, bucket }, await readRefreshFolder(dir), { refreshId });
      await expect(attempt()).rejects.toThrow(DropFileError);
      await expect(attempt()).rejects.toThrow(reason);
      expect(await keysUnder(`refreshes/${refreshId}/`)).toEqual([]);
    },
  );

  it('exits 2 naming the file when run on a bad folder', async () => {
    const dir = await folder('cli-bad', { 'vip.csv': 'email\nx@example.com\n' });
    const out = await runDrop(['--dir', dir, '--bucket', bucket, '--endpoint', inject('sqsEndpoint')]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`${join(dir, 'vip.csv')}: the header has no "id" column`);
  });
});

describe('npm run drop options', () => {
  const serving = {
    ok: true as const,
    state: { endpoint: 'http://127.0.0.1:4566', bucket: 'served-bucket', pid: 1 },
  };
  const notServing = {
    ok: false as const,
    reason: 'no .local-data/serve.json: `npm run serve` is not running here',
  };
  const refused = (argv: string[], serve: Parameters<typeof parseDropOptions>[2] = notServing): string => {
    try {
      parseDropOptions(argv, {}, serve);
    } catch (error) {
      if (error instanceof UsageError) return error.message;
      throw error;
    }
    throw new Error('expected a UsageError');
  };

  it('takes the endpoint and bucket of the running npm run serve by default', () => {
    expect(parseDropOptions(['--dir', 'd'], {}, serving)).toEqual({
      dir: 'd',
      bucket: 'served-bucket',
      endpoint: 'http://127.0.0.1:4566',
      idField: 'id',
    });
  });

  it('goes to AWS S3 (no endpoint) when --bucket is given without --endpoint', () => {
    const options = parseDropOptions(
      ['--dir', 'd', '--bucket', 'my-bucket', '--id-field', 'customer_id'],
      {},
      serving,
    );
    expect(options).toEqual({ dir: 'd', bucket: 'my-bucket', idField: 'customer_id' });
  });

  it.each([
    [['--bucket', 'b-1'], '--dir: required'],
    [['--dir', 'd'], '--bucket: not given, and no .local-data/serve.json'],
    [['--dir', 'd', '--bucket', 'Not_A_Bucket'], '--bucket: "Not_A_Bucket" is not an S3 bucket name'],
    [
      ['--dir', 'd', '--bucket', 'b-1', '--endpoint', 'ftp://x'],
      '--endpoint: "ftp://x" is not an http(s) URL',
    ],
    [
      ['--dir', 'd', '--bucket', 'b-1', '--refresh-id', 'a/b'],
      '--refresh-id: refresh id "a/b": only letters',
    ],
    [['--dir', 'd', '--bucket', 'b-1', '--id-field', ' '], '--id-field: must be 1–256 characters'],
    [['--dir', 'd', '--dir', 'e', '--bucket', 'b-1'], '--dir: given more than once'],
  ])('refuses %j, naming the flag', (argv, message) => {
    expect(refused(argv)).toContain(message);
  });
});
