import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { inject } from 'vitest';
import { type LocalServerOptions, startLocalApiServer } from '#local/api-gateway.ts';
import { type LocalRuntime, startLocalRuntime } from '#local/runtime.ts';
import { type SampleDataset, seedDynamoDbSegments } from '#local/sample-data.ts';
import { buildConsole } from '#scripts/build-console.ts';
import { launchBrowser } from './browser.ts';

/**
 * What every console browser test stands on: the console built, the real local runtime (the
 * suite's DynamoDB Local and SQS emulator, the Autopilot stand-in), the local API serving both on
 * a free loopback port, and one chromium for the file.
 */
export interface ConsoleHarness {
  runtime: LocalRuntime;
  server: Server;
  browser: Browser;
  /** `http://127.0.0.1:<port>`: the console at `/`, the API beside it. */
  base: string;
  /** One API call as `token` (a dev token or a real JWT), answered as it comes. */
  api(token: string, method: string, path: string, body?: unknown): Promise<Response>;
  /** One API call whose JSON answer is returned; a non-2xx answer throws with its body. */
  request<T>(token: string, method: string, path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

export interface ConsoleHarnessOptions {
  /** Seeded into the segment table before the server starts. */
  dataset?: SampleDataset;
  /** How the local server authenticates and what it tells the console (the console directory is set here). */
  server?: Omit<LocalServerOptions, 'consoleDir'>;
}

export const startConsoleHarness = async (options: ConsoleHarnessOptions = {}): Promise<ConsoleHarness> => {
  const outdir = mkdtempSync(join(tmpdir(), 'console-'));
  const [, runtime, browser] = await Promise.all([
    buildConsole(outdir),
    startLocalRuntime({
      senders: 1,
      services: { dynamoEndpoint: inject('dynamoEndpoint'), sqsEndpoint: inject('sqsEndpoint') },
      autopilot: { kind: 'standin', ratePerSecond: 100 },
    }),
    launchBrowser(),
  ]);
  if (options.dataset !== undefined) await seedDynamoDbSegments(runtime.segmentWriter, options.dataset);
  const server = await startLocalApiServer(runtime, 0, { ...options.server, consoleDir: outdir });
  const address = server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;

  const api = (token: string, method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const request = async <T>(token: string, method: string, path: string, body?: unknown): Promise<T> => {
    const res = await api(token, method, path, body);
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
  const close = async (): Promise<void> => {
    await browser.close();
    server.closeAllConnections();
    server.close();
    await runtime.close();
    rmSync(outdir, { recursive: true, force: true });
  };
  return { runtime, server, browser, base, api, request, close };
};
