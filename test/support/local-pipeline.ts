import { inject } from 'vitest';
import type { ExportConfigInput } from '#lib/domain/export-config.ts';
import type { ExportRecord } from '#lib/domain/export-record.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { PRIVACY_NOTICE_VERSION } from '#lib/use-cases/connection-inputs.ts';
import { createConnection } from '#lib/use-cases/manage-connections.ts';
import { createExport } from '#lib/use-cases/manage-exports.ts';
import { type LocalRuntime, type LocalRuntimeOptions, startLocalRuntime } from '#local/runtime.ts';
import { generateSampleProfiles, type SampleDataset, seedDynamoDbSegments } from '#local/sample-data.ts';

export interface LocalPipeline {
  runtime: LocalRuntime;
  dataset: SampleDataset;
  connectionId: string;
  exp: ExportRecord;
  /** Starts a run through the planner handler and waits for it to end. */
  run(): Promise<RunRecord>;
}

/**
 * The real pipeline on the test run's DynamoDB Local and fauxqs, with its own tables, queues and
 * Autopilot stand-in, seeded with deterministic sample data and one connection + export. With
 * `destination: 'ortto'` the connection is an Ortto one, on the runtime's Ortto stand-in (its
 * behaviour from `ortto`), and the export keeps membership as tags.
 */
export const startLocalPipeline = async (
  options: {
    profiles?: number;
    ratePerSecond?: number;
    standInRate?: number;
    export?: Partial<ExportConfigInput>;
    destination?: 'autopilot' | 'ortto';
  } & Partial<Omit<LocalRuntimeOptions, 'autopilot'>> & { standIn?: Record<string, unknown> } = {},
): Promise<LocalPipeline> => {
  const rate = options.ratePerSecond ?? 200;
  const runtime = await startLocalRuntime({
    senders: 2,
    senderTimeoutMs: 20_000,
    ...options,
    services: { dynamoEndpoint: inject('dynamoEndpoint'), sqsEndpoint: inject('sqsEndpoint') },
    autopilot: {
      kind: 'standin',
      ratePerSecond: options.standInRate ?? rate,
      standIn: { seed: 7, ...options.standIn },
    },
    ...(options.destination === 'ortto'
      ? {
          ortto: {
            standIn: { ratePerSecond: options.standInRate ?? rate, seed: 7, ...options.ortto?.standIn },
          },
        }
      : {}),
  });
  const ortto = runtime.ortto;
  try {
    const dataset = generateSampleProfiles({ profiles: options.profiles ?? 300, seed: 11 });
    await seedDynamoDbSegments(runtime.segmentWriter, dataset);
    const connection = await createConnection(
      runtime.connectionDeps,
      {
        displayName: 'Test connection',
        ...(ortto === undefined
          ? { apiKey: runtime.apiKey }
          : { type: 'ortto', region: 'global', apiKey: ortto.apiKey }),
        consent: { accepted: true, noticeVersion: PRIVACY_NOTICE_VERSION },
        ratePerSecond: rate,
      },
      { id: 'tester', role: 'admin' },
    );
    const exp = await createExport(
      runtime.exportDeps,
      {
        name: 'Test export',
        connectionId: connection.id,
        segmentIds: dataset.segments.map((s) => s.id),
        dataMatching: { email: 'email', fields: { FirstName: 'first_name' }, updatedAt: 'updated_at' },
        ...(ortto === undefined ? {} : { membership: 'tag' as const }),
        ...options.export,
      },
      { id: 'tester', role: 'admin' },
    );
    return {
      runtime,
      dataset,
      connectionId: connection.id,
      exp,
      run: async () => {
        const started = await runtime.startRun(exp.id);
        return runtime.waitForRun(started.run.id, { timeoutMs: 120_000 });
      },
    };
  } catch (error) {
    await runtime.close();
    throw error;
  }
};
