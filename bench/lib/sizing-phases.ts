import { PRIVACY_NOTICE_VERSION } from '#lib/use-cases/connection-inputs.ts';
import { invokeLocalApi } from '#local/api-gateway.ts';
import { type LocalRuntime, startLocalRuntime } from '#local/runtime.ts';
import {
  applyChurn,
  generateSampleProfiles,
  SAMPLE_DATA_MATCHING,
  seedDynamoDbSegments,
  syncDynamoDbSegments,
} from '#local/sample-data.ts';
import type { SizingWorkerConfig, SizingWorkerReport } from './sender-sizing-worker.ts';

/** Routes only a sender calls (list lookups and creations are the planner's). */
const SENDER_ROUTES = [
  'POST /contact',
  'POST /contacts',
  'POST /list/{id}/contact/{id}',
  'DELETE /list/{id}/contact/{id}',
  'GET /list/{id}/contact/{id}',
];

export interface SenderProcess {
  ask(): Promise<SizingWorkerReport>;
  stop(): Promise<void>;
}

export interface PhaseFigures {
  name: string;
  requests: number;
  byRoute: Record<string, number>;
  invocations: number;
  handlerCpuMs: number;
  cpuMsPerRequest: number;
  /** Requests per second of invocation time: how fast the one sender went, budget-bound here. */
  requestsPerHandlerSecond: number;
}

const api = async <T>(runtime: LocalRuntime, method: string, url: string, body?: unknown): Promise<T> => {
  const res = await invokeLocalApi(runtime, {
    method,
    url,
    headers: { authorization: 'Bearer dev-admin', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${res.body}`);
  return JSON.parse(res.body) as T;
};

/** The runtime's sender settings as the environment strings a Lambda would get. */
const asEnvironment = (env: object): Record<string, string> =>
  Object.fromEntries(
    Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)] as [string, string]])),
  );

/** The sender's figures once no invocation is running (the one that ended the run included). */
const settled = async (sender: SenderProcess): Promise<SizingWorkerReport> => {
  for (;;) {
    const report = await sender.ask();
    if (report.inFlight === 0) return report;
    await new Promise((r) => setTimeout(r, 50));
  }
};

/**
 * Plans three runs on the local runtime and has one sender process (started by `startSender`)
 * deliver them: list-mode first export, its 1%-churn re-run, field-mode first export.
 */
export const sendingPhases = async (options: {
  services: { dynamoEndpoint: string; sqsEndpoint: string };
  profiles: number;
  ratePerSecond: number;
  senderTimeoutMs: number;
  startSender(config: Omit<SizingWorkerConfig, 'batchSize'>): Promise<SenderProcess>;
}): Promise<{ phases: PhaseFigures[]; peakRssMB: number }> => {
  const runtime = await startLocalRuntime({
    autopilot: { kind: 'standin', ratePerSecond: options.ratePerSecond, standIn: { seed: 1 } },
    services: options.services,
    startSenders: false,
    senderTimeoutMs: options.senderTimeoutMs,
  });
  try {
    const dataset = generateSampleProfiles({ profiles: options.profiles, seed: 42 });
    await seedDynamoDbSegments(runtime.segmentWriter, dataset);
    const connection = await api<{ id: string }>(runtime, 'POST', '/connections', {
      displayName: 'sizing',
      apiKey: runtime.apiKey,
      consent: { accepted: true, noticeVersion: PRIVACY_NOTICE_VERSION },
      ratePerSecond: options.ratePerSecond,
    });
    const exportOf = (membership: 'list' | 'field') =>
      api<{ id: string }>(runtime, 'POST', '/exports', {
        name: `sizing ${membership}`,
        connectionId: connection.id,
        segmentIds: dataset.segments.map((s) => s.id),
        membership,
        dataMatching: SAMPLE_DATA_MATCHING,
      });
    const list = await exportOf('list');
    const field = await exportOf('field');
    const sender = await options.startSender({
      senderEnv: { ...asEnvironment(runtime.env.sender), SENDER_PARALLELISM: '5' },
      dynamoEndpoint: options.services.dynamoEndpoint,
      sqsEndpoint: options.services.sqsEndpoint,
      keys: { [connection.id]: runtime.apiKey },
      functionTimeoutMs: options.senderTimeoutMs,
    });
    const phases: PhaseFigures[] = [];
    const phase = async (name: string, exportId: string): Promise<void> => {
      runtime.standIn?.resetCounts();
      const before = await sender.ask();
      const { runId } = await api<{ runId: string }>(runtime, 'POST', `/exports/${exportId}/runs`);
      const run = await runtime.waitForRun(runId, { timeoutMs: 30 * 60_000 });
      if (run.status !== 'succeeded') throw new Error(`${name}: the run ended ${run.status}`);
      const after = await settled(sender);
      const counts = runtime.standIn?.counts() ?? {};
      const byRoute = Object.fromEntries(
        SENDER_ROUTES.flatMap((route) => {
          const n = Object.values(counts[route] ?? {}).reduce((a, b) => a + b, 0);
          return n === 0 ? [] : [[route, n] as [string, number]];
        }),
      );
      const requests = Object.values(byRoute).reduce((a, b) => a + b, 0);
      const cpu = after.handlerCpuMs - before.handlerCpuMs;
      phases.push({
        name,
        requests,
        byRoute,
        invocations: after.invocations - before.invocations,
        handlerCpuMs: Math.round(cpu),
        cpuMsPerRequest: cpu / Math.max(1, requests),
        requestsPerHandlerSecond: requests / ((after.handlerWallMs - before.handlerWallMs) / 1000),
      });
    };
    await phase('list first export', list.id);
    const churned = applyChurn(dataset, { fraction: 0.01, seed: 43 });
    await syncDynamoDbSegments(runtime.segmentWriter, dataset, churned.dataset);
    await phase('list 1% re-run', list.id);
    await phase('field first export', field.id);
    const peakRssMB = (await sender.ask()).maxRssMB;
    await sender.stop();
    return { phases, peakRssMB };
  } finally {
    await runtime.close();
  }
};
