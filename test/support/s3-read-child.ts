/**
 * Reads one segment of an S3 refresh in its own process, so its peak memory is the reader's alone
 * (test/integration/s3-million-rows.test.ts bundles this file and runs it with plain `node`).
 * Prints one JSON line: a `ReadReport`.
 *
 *   node child.cjs --endpoint URL --bucket B --refresh R --segment S [--page-size 1000]
 *                  [--pages-per-invocation 100]   # a new source from the serialised cursor every N pages
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { S3SegmentSource } from '#lib/adapters/segments/s3-segment-source.ts';
import { peakRssMB } from './peak-rss.ts';
import { ProfileDigest } from './profile-digest.ts';
import { localS3Client } from './s3-endpoint.ts';

export interface ReadReport {
  profiles: number;
  skipped: Array<{ profileId: string; reason: string }>;
  /** `ProfileDigest.value` of every (id, email) read. */
  digest: string;
  pages: number;
  /** Source instances used: one per simulated planner invocation. */
  invocations: number;
  ms: number;
  /** The process's peak resident set (see `peakRssMB`). */
  peakRssMB: number;
}

const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
};
const required = (name: string): string => {
  const value = argValue(name);
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
};

const paged = async (s3: S3Client, bucket: string, refreshId: string, segment: string) => {
  const pageSize = Number(argValue('page-size') ?? 1000);
  const perInvocation = Number(argValue('pages-per-invocation') ?? 100);
  const digest = new ProfileDigest();
  const skipped: ReadReport['skipped'] = [];
  let pages = 0;
  let invocations = 0;
  let cursor: string | undefined;
  do {
    // A planner that runs short of time saves the cursor with its checkpoint (as JSON) and a new
    // invocation, with a new source, goes on from it.
    const source = new S3SegmentSource({ client: s3, bucket, refreshId });
    invocations++;
    for (let n = 0; n < perInvocation; n++) {
      const page = await source.readPage(segment, cursor, pageSize);
      pages++;
      for (const p of page.profiles) digest.add(p.id, p.attributes.email);
      skipped.push(...page.skipped);
      cursor = page.next;
      if (cursor === undefined) break;
    }
    cursor = cursor === undefined ? undefined : (JSON.parse(JSON.stringify({ cursor })).cursor as string);
  } while (cursor !== undefined);
  return { profiles: digest.count, skipped, digest: digest.value, pages, invocations };
};

const main = async (): Promise<void> => {
  const s3 = localS3Client(required('endpoint'));
  const bucket = required('bucket');
  const refreshId = required('refresh');
  const t0 = performance.now();
  const read = await paged(s3, bucket, refreshId, required('segment'));
  const report: ReadReport = {
    ...read,
    ms: Math.round(performance.now() - t0),
    peakRssMB: peakRssMB(),
  };
  console.log(JSON.stringify(report));
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
