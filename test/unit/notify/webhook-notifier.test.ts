import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebhookNotifier } from '#lib/adapters/notify/webhook-notifier.ts';
import { SIGNATURE_HEADER, verifySignature } from '#lib/adapters/notify/webhook-signature.ts';
import { webhookSecretId } from '#lib/domain/export-config.ts';
import type { HealthChange } from '#lib/ports/notifier.ts';
import { InMemorySecretProvider } from '#local/in-memory-secrets.ts';
import { FakeClock } from '#test/fakes/fake-clock.ts';
import { RecordingLogger } from '#test/fakes/recording-logger.ts';
import { aRun } from '#test/fixtures/state-records.ts';

interface Received {
  body: string;
  signature: string;
  contentType: string;
}

/** A real receiver on loopback that answers each request with the next scripted status. */
let server: Server;
let url: string;
let received: Received[] = [];
let script: number[] = [];

const read = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

beforeAll(async () => {
  server = createServer(async (req, res) => {
    received.push({
      body: await read(req),
      signature: String(req.headers[SIGNATURE_HEADER.toLowerCase()] ?? ''),
      contentType: String(req.headers['content-type'] ?? ''),
    });
    res.statusCode = script.shift() ?? 200;
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=abc`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received = [];
  script = [];
});

const SECRET = 'whsec_test_0123456789abcdef';

const entries = (logger: RecordingLogger): Array<Record<string, unknown>> =>
  logger.lines.map((l) => JSON.parse(l) as Record<string, unknown>);

const setup = async (options: { allowLoopbackHttp?: boolean } = {}) => {
  const secrets = new InMemorySecretProvider();
  await secrets.putApiKey(webhookSecretId('exp-1'), SECRET);
  const clock = new FakeClock();
  const logger = new RecordingLogger();
  const counted: string[] = [];
  const notifier = new WebhookNotifier({
    secrets,
    clock,
    logger,
    metrics: { count: (name) => counted.push(name) },
    allowLoopbackHttp: options.allowLoopbackHttp ?? true,
    consoleUrl: 'https://console.example.com',
  });
  /** Deliveries given up, as the metric counts them. */
  const failed = () => counted.filter((n) => n === 'WebhookDeliveriesFailed').length;
  return { notifier, clock, logger, failed };
};

const change = (overrides: Partial<HealthChange> = {}): HealthChange => ({
  exportId: 'exp-1',
  exportName: 'Weekly VIPs',
  from: 'healthy',
  to: 'failing',
  failingRuns: 1,
  reason: 'Contact ann.lee@example.com was refused; see bob@corp.example.org too.',
  run: aRun({ id: 'run-7', status: 'failed' }),
  webhookUrl: url,
  ...overrides,
});

describe('webhook delivery', () => {
  it('posts a signed Slack-compatible body that verifies with the export’s secret', async () => {
    const { notifier, clock } = await setup();

    await notifier.healthChanged(change());

    expect(received).toHaveLength(1);
    const [got] = received;
    expect(got?.contentType).toBe('application/json');
    expect(got?.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const nowSeconds = Math.floor(clock.now() / 1000);
    expect(verifySignature(SECRET, got?.signature ?? '', got?.body ?? '', nowSeconds)).toBe(true);
    expect(verifySignature('another-secret', got?.signature ?? '', got?.body ?? '', nowSeconds)).toBe(false);
    expect(verifySignature(SECRET, got?.signature ?? '', `${got?.body} `, nowSeconds)).toBe(false);
    const body = JSON.parse(got?.body ?? '{}') as { text: string; blocks: unknown[] };
    expect(body.text).toContain('export "Weekly VIPs" started failing');
    expect(body.blocks.length).toBeGreaterThan(0);
    expect(got?.body).toContain('https://console.example.com/#/runs/run-7');
  });

  it('never carries a raw email: addresses in the reason are masked', async () => {
    const { notifier } = await setup();

    await notifier.healthChanged(change());

    const body = received[0]?.body ?? '';
    expect(body).not.toContain('ann.lee@example.com');
    expect(body).not.toContain('bob@corp.example.org');
    expect(body).toContain('a***@example.com');
  });

  it('retries a 500 and delivers once when the next attempt is answered 200', async () => {
    const { notifier, logger, failed } = await setup();
    script = [500, 200];

    await notifier.healthChanged(change());

    expect(received).toHaveLength(2);
    expect(failed()).toBe(0);
    expect(entries(logger).filter((l) => l.message === 'webhook delivered')).toHaveLength(1);
  });

  it('retries a 429 and network errors, and gives up after four attempts, logging the status', async () => {
    const { notifier, logger, failed } = await setup();
    script = [429, 503, 502, 500, 200];

    await notifier.healthChanged(change());

    expect(received).toHaveLength(4);
    expect(failed()).toBe(1);
    const failure = entries(logger).find((l) => l.message === 'webhook delivery failed');
    expect(failure).toMatchObject({ level: 'ERROR', status: 500, attempts: 4, exportId: 'exp-1' });
    expect(JSON.stringify(logger.lines)).not.toContain(SECRET);
    expect(JSON.stringify(logger.lines)).not.toContain('token=abc');
  });

  it('does not retry a 400', async () => {
    const { notifier, logger, failed } = await setup();
    script = [400, 200];

    await notifier.healthChanged(change());

    expect(received).toHaveLength(1);
    expect(failed()).toBe(1);
    expect(entries(logger).find((l) => l.message === 'webhook delivery failed')).toMatchObject({
      status: 400,
      attempts: 1,
    });
  });

  it('refuses plain HTTP unless the deployment allows loopback, and sends nothing', async () => {
    const { notifier, failed } = await setup({ allowLoopbackHttp: false });

    await notifier.healthChanged(change());

    expect(received).toEqual([]);
    expect(failed()).toBe(1);
  });

  it('an export without a webhook sends nothing', async () => {
    const { notifier, failed } = await setup();
    const { webhookUrl: _, ...without } = change();

    await notifier.healthChanged(without);

    expect(received).toEqual([]);
    expect(failed()).toBe(0);
  });
});
