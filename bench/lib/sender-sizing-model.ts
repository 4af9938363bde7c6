/**
 * What a sender of a given memory size could do, from figures measured on a full core. Lambda gives
 * CPU in proportion to memory: "At 1,769 MB, a function has the equivalent of one vCPU (one
 * vCPU-second of credits per second)" (AWS Lambda Developer Guide, "Configure Lambda function
 * memory", docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). The model assumes CPU
 * is the only thing that slows down: it ignores network latency (which the sender overlaps with
 * SENDER_PARALLELISM requests in flight) and any faster CPU Lambda may give during INIT.
 */
export const ONE_VCPU_MB = 1769;

/** The Autopilot rate one connection must be able to use (docs/autopilot-api.md#limits). */
export const AUTOPILOT_RATE_PER_SECOND = 5;

export interface SizingInput {
  memoryMB: number;
  /** CPU from process start to handler ready, on a full core. */
  initCpuMs: number;
  /** CPU per Autopilot request inside invocations, on a full core, per workload. */
  cpuMsPerRequest: Readonly<Record<string, number>>;
  /** Peak resident set size under this memory size's heap limits. */
  peakRssMB: number;
  /**
   * Send lanes per workload at Autopilot's rate (lib/use-cases/planning/lanes.ts): a workload whose
   * batches go round `n` lanes has `n` senders sharing the rate, so one sender needs only 1/n of it.
   * A workload not named has one lane (per-contact batches, pipelined by one sender).
   */
  lanes?: Readonly<Record<string, number>>;
}

export interface SizingModel {
  memoryMB: number;
  cpuShare: number;
  /** initCpuMs ÷ cpuShare. */
  coldStartMs: number;
  /** cpuShare ÷ CPU seconds per request: the most requests/s one sender's CPU can drive, per workload. */
  maxRequestsPerSecond: Record<string, number>;
  /** Requests/s one sender must drive per workload: 5 ÷ the workload's send lanes. */
  neededRequestsPerSecond: Record<string, number>;
  /** The share of the sender's CPU its part of 5 requests/s takes, in the costliest workload. */
  cpuUseAtAutopilotRate: number;
  /** Whether one sender drives its part of 5 requests/s (neededRequestsPerSecond) in every workload. */
  reachesAutopilotRate: boolean;
  peakRssMB: number;
  headroomMB: number;
}

export const sizingModel = (input: SizingInput): SizingModel => {
  const cpuShare = input.memoryMB / ONE_VCPU_MB;
  const maxRequestsPerSecond = Object.fromEntries(
    Object.entries(input.cpuMsPerRequest).map(([workload, ms]) => [workload, cpuShare / (ms / 1000)]),
  );
  const neededRequestsPerSecond = Object.fromEntries(
    Object.keys(input.cpuMsPerRequest).map((workload) => [
      workload,
      AUTOPILOT_RATE_PER_SECOND / Math.max(1, input.lanes?.[workload] ?? 1),
    ]),
  );
  const use = Object.entries(maxRequestsPerSecond).map(
    ([workload, max]) => (neededRequestsPerSecond[workload] ?? AUTOPILOT_RATE_PER_SECOND) / max,
  );
  const cpuUseAtAutopilotRate = Math.max(...use);
  return {
    memoryMB: input.memoryMB,
    cpuShare,
    coldStartMs: input.initCpuMs / cpuShare,
    maxRequestsPerSecond,
    neededRequestsPerSecond,
    cpuUseAtAutopilotRate,
    reachesAutopilotRate: cpuUseAtAutopilotRate <= 1,
    peakRssMB: input.peakRssMB,
    headroomMB: input.memoryMB - input.peakRssMB,
  };
};
