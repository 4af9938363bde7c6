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
}

export interface SizingModel {
  memoryMB: number;
  cpuShare: number;
  /** initCpuMs ÷ cpuShare. */
  coldStartMs: number;
  /** cpuShare ÷ CPU seconds per request: the most requests/s one sender's CPU can drive, per workload. */
  maxRequestsPerSecond: Record<string, number>;
  /** The share of the sender's CPU that 5 requests/s of the costliest workload take. */
  cpuUseAtAutopilotRate: number;
  /** Whether every workload reaches 5 requests/s. */
  reachesAutopilotRate: boolean;
  peakRssMB: number;
  headroomMB: number;
}

export const sizingModel = (input: SizingInput): SizingModel => {
  const cpuShare = input.memoryMB / ONE_VCPU_MB;
  const maxRequestsPerSecond = Object.fromEntries(
    Object.entries(input.cpuMsPerRequest).map(([workload, ms]) => [workload, cpuShare / (ms / 1000)]),
  );
  const slowest = Math.min(...Object.values(maxRequestsPerSecond));
  return {
    memoryMB: input.memoryMB,
    cpuShare,
    coldStartMs: input.initCpuMs / cpuShare,
    maxRequestsPerSecond,
    cpuUseAtAutopilotRate: AUTOPILOT_RATE_PER_SECOND / slowest,
    reachesAutopilotRate: slowest >= AUTOPILOT_RATE_PER_SECOND,
    peakRssMB: input.peakRssMB,
    headroomMB: input.memoryMB - input.peakRssMB,
  };
};
