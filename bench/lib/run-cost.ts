import { type CostLine, costPer100k, type RunCounts, type SenderPricing } from './cost.ts';
import type { S3Counts } from './queue-deliveries.ts';

/** S3 Standard request prices (us-east-1, 2025), beside cost.ts's table, which has no S3 line. */
export const S3_PRICES = { getPer1000: 0.0004, putPer1000: 0.005 } as const;

const S3_WRITES = new Set(['PutObjectCommand', 'CopyObjectCommand']);
/** Locally a poller lists the bucket twice a second to stand in for S3 → EventBridge: no AWS cost. */
const LOCAL_ONLY = new Set(['ListObjectsV2Command']);

/**
 * The cost of one whole run of `counts.profiles` profiles at `options.rate` requests/s: cost.ts's
 * per-100,000 model (its prices and assumptions, unchanged) scaled back to the run's own size, plus
 * the S3 requests the planner's segment source made (S3 is not in that model). The model's few
 * fixed terms (10 invocations, 10 secret reads) scale with it: under a cent in any run.
 */
export const costPerRun = (
  counts: RunCounts,
  s3: S3Counts,
  options: { sender: SenderPricing; rate: number },
): { lines: CostLine[]; totalUsd: number } => {
  const scale = counts.profiles / 100_000;
  const lines = costPer100k(counts, options).map((line) => ({
    ...line,
    quantity: line.quantity * scale,
    usd: line.usd * scale,
  }));
  let gets = 0;
  let writes = 0;
  for (const [command, { calls }] of Object.entries(s3)) {
    if (LOCAL_ONLY.has(command)) continue;
    if (S3_WRITES.has(command)) writes += calls;
    else gets += calls;
  }
  lines.push({
    item: 'S3 requests',
    quantity: gets + writes,
    unit: 'requests',
    usd: (gets / 1000) * S3_PRICES.getPer1000 + (writes / 1000) * S3_PRICES.putPer1000,
    assumption:
      'counted on the runtime\u2019s S3 client: the planner reading the refresh, the arrival verifying it (not the local poller\u2019s listings)',
  });
  return { lines, totalUsd: lines.reduce((n, l) => n + l.usd, 0) };
};
