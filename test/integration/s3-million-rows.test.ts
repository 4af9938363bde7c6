import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SampleProfile } from '#local/sample-data.ts';
import { uniqueName } from '#test/support/aws.ts';
import { ProfileDigest } from '#test/support/profile-digest.ts';
import { createBucket, localS3, putRefresh } from '#test/support/s3.ts';
import type { ReadReport } from '#test/support/s3-read-child.ts';
import { uploadSegmentFile } from '#test/support/segment-files.ts';
import { syntheticRows } from '#test/support/synthetic-rows.ts';
import { lambdaNodeFlags } from '../../bench/lib/lambda-node-flags.ts';
import { SIZING } from '../../cdk/stacks/stateless-stack.ts';

/*
 * Issue 12's scale check: a 1,000,000-row gzip JSONL segment in S3 read page by page in bounded
 * memory, resuming from serialised cursors as planner invocations do. The reader runs in a child
 * process (an esbuild bundle under the planner Lambda's heap limits), so its peak resident set is
 * its own and not this test runner's.
 */

const ROWS = 1_000_000;
/** The planner's page size (PLANNER_PAGE_SIZE's default, functions/shared/env.ts). */
const PAGE_SIZE = 1000;
/** A new source, from the cursor as a checkpoint saved it, every this many pages. */
const PAGES_PER_INVOCATION = 100;
const KEY = 'people.jsonl.gz';

/**
 * Peak RSS the reader must stay under. The streaming reader holds one page of rows and one chunk
 * of the inflated body; under the planner's heap limits (its young generation alone may grow to
 * 3 × 51 MB) it peaked at 130–270 MB on a loaded 2-core machine, ~190 MB typically. Any reader
 * holding the file whole is far above: the inflated text alone is 281 MiB (twice that as a Buffer
 * and its string), and gunzipping the body, splitting it and parsing every line peaked at
 * 1,598 MB.
 */
const PEAK_RSS_BOUND_MB = 400;

/** Lines planted among the rows (1-based physical lines) and the skip each must produce. */
const PLANTED: Array<{ line: number; text: string; reason?: string }> = [
  { line: 2, text: '{"id":"c-broken","email":', reason: 'invalid JSON' },
  // Blank: neither a row nor a skip, but every later line number counts it.
  { line: 3, text: '' },
  // The first row of page 2, and of the first page after a checkpoint (row 100,001).
  { line: 1_002, text: '[1,2,3]', reason: 'not a JSON object' },
  { line: 100_002, text: '{"email":"nobody@example.com"}', reason: 'id field "id" missing' },
  {
    line: 500_000,
    text: `{"id":"c-huge","note":"${'x'.repeat(1_100_000)}"}`,
    reason: 'line longer than 1 MiB',
  },
  {
    line: 777_777,
    text: '{"id":true,"email":"x@example.com"}',
    reason: 'id field "id" not a string or number',
  },
];
// After the last row, cut short.
PLANTED.push({ line: ROWS + PLANTED.length + 1, text: '{"id":"c-tail"', reason: 'invalid JSON' });

let s3: S3Client;
let bucket: string;
let refreshId: string;
let dir: string;
let child: string;
const written = new ProfileDigest();
let uploadMs = 0;

beforeAll(async () => {
  s3 = localS3();
  bucket = await createBucket(s3);
  refreshId = uniqueName('r-million');
  dir = mkdtempSync(join(tmpdir(), 's3-million-'));
  child = join(dir, 'read-child.cjs');
  await build({
    entryPoints: [fileURLToPath(new URL('../support/s3-read-child.ts', import.meta.url))],
    outfile: child,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    logLevel: 'warning',
  });
  const rows = function* (): Generator<SampleProfile> {
    for (const row of syntheticRows(ROWS, 12)) {
      written.add(row.id, row.email);
      yield row;
    }
  };
  const t0 = performance.now();
  await uploadSegmentFile(s3, bucket, `refreshes/${refreshId}/${KEY}`, rows(), {
    format: 'jsonl',
    gzip: true,
    specials: new Map(PLANTED.map((p) => [p.line, p.text])),
  });
  uploadMs = performance.now() - t0;
  await putRefresh(
    s3,
    bucket,
    refreshId,
    {
      refreshId,
      createdAt: '2026-12-03T10:00:00Z',
      segments: [{ id: 'people', name: 'People', files: [{ key: KEY, format: 'jsonl', gzip: true }] }],
    },
    {},
  );
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const readInChild = async (): Promise<ReadReport> => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      ...lambdaNodeFlags(SIZING.planner.memorySize),
      child,
      ...['--endpoint', inject('sqsEndpoint'), '--bucket', bucket, '--refresh', refreshId],
      ...['--segment', 'people', '--page-size', String(PAGE_SIZE)],
      ...['--pages-per-invocation', String(PAGES_PER_INVOCATION)],
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as ReadReport;
};

describe('S3SegmentSource at 1,000,000 rows', () => {
  it('reads every row of a gzip JSONL file once, across page and checkpoint boundaries, in bounded memory', async () => {
    const read = await readInChild();
    console.info(
      `s3 ${ROWS.toLocaleString('en')}-row ${KEY}: written in ${Math.round(uploadMs)} ms; read in ${read.ms} ms ` +
        `(${read.pages} pages, ${read.invocations} sources), peak RSS ${read.peakRssMB} MB (bound ${PEAK_RSS_BOUND_MB} MB)`,
    );
    const skips = PLANTED.filter((p) => p.reason !== undefined);
    expect(read.profiles).toBe(ROWS);
    expect(read.digest).toBe(written.value);
    expect(read.skipped).toEqual(
      skips.map((p) => ({ profileId: `${KEY}:line:${p.line}`, reason: `source_malformed_row: ${p.reason}` })),
    );
    expect(read.pages).toBe(Math.ceil((ROWS + skips.length) / PAGE_SIZE));
    expect(read.invocations).toBe(Math.ceil(read.pages / PAGES_PER_INVOCATION));
    expect(read.peakRssMB).toBeLessThan(PEAK_RSS_BOUND_MB);
  }, 180_000);
});
