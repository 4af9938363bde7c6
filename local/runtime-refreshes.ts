import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { State } from '#lib/ports/state.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './dynamodb-local.ts';
import {
  type DropOptions,
  type DroppedRefresh,
  type DropSegment,
  dropRefresh,
  manifestKeyOf,
} from './refresh-drop.ts';
import type { ArrivalOutcome, S3Arrivals } from './s3-arrivals.ts';

/*
 * The runtime's segment front door in `segments: 's3'` mode, as deployed: a bucket in the local S3
 * (fauxqs), refreshes dropped into it, and the arrivals poller standing in for S3 → EventBridge.
 */

/** An S3 client for fauxqs, which serves S3 on its SQS endpoint. */
export const localS3Client = (endpoint: string): S3Client =>
  new S3Client({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    // fauxqs answers on 127.0.0.1, where bucket subdomains do not resolve.
    forcePathStyle: true,
  });

export const createSegmentBucket = async (s3: S3Client, suffix: string): Promise<string> => {
  const bucket = `autopilot-export-segments-${suffix}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
};

/** The runs carrying `refreshId`, newest first: what its arrival started (or skipped). */
export const runsOfRefresh = async (
  state: Pick<State, 'exports' | 'runs'>,
  refreshId: string,
): Promise<RunRecord[]> => {
  const runs: RunRecord[] = [];
  for (const exp of await state.exports.list()) {
    let cursor: string | undefined;
    do {
      const page = await state.runs.list(exp.id, 50, cursor);
      runs.push(...page.runs.filter((r) => r.refreshId === refreshId));
      cursor = page.next;
    } while (cursor !== undefined);
  }
  return runs.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
};

export interface RefreshArrival {
  refreshId: string;
  /** What the planner's handler answered for the manifest's upload, or why it gave up. */
  delivery: ArrivalOutcome;
  /** The runs carrying the refresh id once its arrival was handled. */
  runs: RunRecord[];
}

export interface RuntimeRefreshes {
  s3: S3Client;
  segmentBucket: string;
  arrivals: S3Arrivals;
  /** Writes a refresh into the segment bucket (files, then the manifest); the poller delivers it. */
  dropRefresh(segments: readonly DropSegment[], options?: DropOptions): Promise<DroppedRefresh>;
  /**
   * Waits until the `count`-th upload of the refresh's manifest was handled (or given up) and answers
   * the runs it carries by then.
   */
  waitForRefresh(
    refreshId: string,
    options?: { count?: number; timeoutMs?: number },
  ): Promise<RefreshArrival>;
}

export const runtimeRefreshes = (
  s3: S3Client,
  segmentBucket: string,
  arrivals: S3Arrivals,
  state: Pick<State, 'exports' | 'runs'>,
): RuntimeRefreshes => ({
  s3,
  segmentBucket,
  arrivals,
  dropRefresh: (segments, options) => dropRefresh({ s3, bucket: segmentBucket }, segments, options),
  waitForRefresh: async (refreshId, options = {}) => {
    const delivery = await arrivals.delivered(manifestKeyOf(refreshId), options);
    return { refreshId, delivery, runs: await runsOfRefresh(state, refreshId) };
  },
});
