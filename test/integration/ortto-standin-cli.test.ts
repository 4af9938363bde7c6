import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '#local/autopilot-standin/cli-args.ts';
import { CLI_FLAGS, parseCli, USAGE } from '#local/ortto-standin/cli-options.ts';

const KEY = 'ortto-cli-key-0123456789';
const parse = (...argv: string[]) => parseCli(['--api-key', KEY, ...argv]);
const usageError = (argv: string[]): string => {
  try {
    parseCli(argv);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error('expected a UsageError');
};

describe('fake-ortto flags', () => {
  it('--help documents every flag it accepts', () => {
    for (const flag of Object.keys(CLI_FLAGS)) expect(USAGE).toContain(`--${flag}`);
  });

  it('maps every behaviour switch and region key onto the stand-in’s options', () => {
    const parsed = parse(
      ...['--eu-api-key', 'eu-key', '--au-api-key', 'au-key', '--cross-region-keys', '--port', '4011'],
      ...['--rate', '30', '--burst', '5', '--retry-after', '--seed', '3'],
      ...['--ban-threshold', '5', '--ban-window', '10', '--ban-seconds', '0'],
      ...['--mixed-batch', 'omit', '--strategy1-tags', 'ignore', '--strategy3-tags', 'apply', '--tag-filter'],
    );
    expect(parsed.keys).toEqual([
      { key: KEY, region: 'global' },
      { key: 'eu-key', region: 'eu' },
      { key: 'au-key', region: 'au' },
    ]);
    expect(parsed.generatedKey).toBeUndefined();
    expect(parsed.options).toEqual({
      port: 4011,
      ratePerSecond: 30,
      burst: 5,
      retryAfter: true,
      seed: 3,
      banThreshold: 5,
      banWindowSeconds: 10,
      banSeconds: 0,
      mixedBatch: 'omit',
      strategy1Tags: 'ignore',
      strategy3Tags: 'apply',
      tagFilter: true,
      crossRegionKeys: true,
    });
  });

  it('generates one global key when none is given', () => {
    const parsed = parseCli([]);
    expect(parsed.generatedKey).toMatch(/^[0-9a-f]{32}$/);
    expect(parsed.keys).toEqual([{ key: parsed.generatedKey, region: 'global' }]);
  });

  it('turns the fault flags into a fault set', () => {
    const routes = ['POST /v1/person/merge'];
    expect(
      parse(
        ...['--error-rate', '0.1', '--error-status', '429', '--error-try-in-seconds', '4'],
        ...['--reset-rate', '0.02', '--reset-phase', 'after', '--hang-rate', '0.01', '--hang-ms', '500'],
        ...['--malformed-rate', '0.01', '--fault-routes', routes[0] ?? ''],
        ...['--revoke-after-requests', '50', '--outage', '5000-8000:502', '--latency', '5-10'],
        ...['--faults', '{"rules":[{"kind":"error","status":500,"every":7}]}'],
      ).options.faults,
    ).toEqual({
      rules: [
        { kind: 'error', status: 500, every: 7 },
        { kind: 'error', rate: 0.1, status: 429, phase: 'before', tryInSeconds: 4, routes },
        { kind: 'reset', rate: 0.02, phase: 'after', routes },
        { kind: 'hang', rate: 0.01, phase: 'before', hangMs: 500, routes },
        { kind: 'malformed', rate: 0.01, routes },
      ],
      revokeKeys: { afterRequests: 50 },
      outages: [{ fromMs: 5000, toMs: 8000, status: 502 }],
      latencyMs: { min: 5, max: 10 },
    });
  });

  it.each([
    [['--rate', '0'], '--rate'],
    [['--mixed-batch', 'some'], '--mixed-batch'],
    [['--strategy3-tags', 'maybe'], '--strategy3-tags'],
    [['--ban-threshold', '0'], '--ban-threshold'],
    [['--api-key', ''], '--api-key: a key must not be empty'],
    [['--api-key', 'k', '--eu-api-key', 'k'], '--eu-api-key: a key is given twice'],
    [['--error-try-in-seconds', '3'], '--error-try-in-seconds: needs --error-rate'],
    [
      ['--error-rate', '0.1', '--error-try-in-seconds', '3'],
      '--error-try-in-seconds: needs --error-status 429',
    ],
    [['--error-rate', '0.1', '--fault-routes', 'POST /v1/person/delete'], '--fault-routes: unknown route'],
    [['--fault-routes', 'POST /v1/person/merge'], '--fault-routes: needs one of'],
    [['--outage', '8000-5000'], '--outage'],
    [['--faults', '{"rules":[{"kind":"meteor"}]}'], '--faults: rules.0.kind'],
    [['--rate', '5', '--rate', '10'], '--rate: given more than once'],
  ])('refuses %j, naming the flag', (argv, message) => {
    expect(usageError(argv)).toContain(message);
  });
});

describe('fake-ortto as a program', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
  });

  it('serves each region, loses the answer of a write that took effect, and reports the faults on exit', async () => {
    child = spawn(
      process.execPath,
      [
        ...['--import', 'tsx', 'local/ortto-standin/cli.ts', '--port', '0', '--seed', '1'],
        ...['--eu-api-key', KEY, '--error-rate', '1', '--error-status', '503', '--error-phase', 'after'],
        ...['--fault-routes', 'POST /v1/person/merge'],
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout?.setEncoding('utf8');
    const url = await new Promise<string>((resolve, reject) => {
      child?.stdout?.on('data', (chunk: string) => {
        stdout += chunk;
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(stdout);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      child?.once('exit', (code) => reject(new Error(`CLI exited early with ${code}`)));
    });
    const headers = { 'X-Api-Key': KEY, 'Content-Type': 'application/json' };
    const people = JSON.stringify({ people: [{ fields: { 'str::email': 'lost-answer@x.com' } }] });
    expect((await fetch(`${url}/v1/tags/get`, { method: 'POST', headers, body: '{}' })).status).toBe(401);
    expect((await fetch(`${url}/eu/v1/person/merge`, { method: 'POST', headers, body: people })).status).toBe(
      503,
    );
    const tags = await fetch(`${url}/eu/v1/person/get`, {
      method: 'POST',
      headers,
      body: '{"fields":["str::email"]}',
    });
    expect(((await tags.json()) as { contacts: unknown[] }).contacts).toHaveLength(1);

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(stdout).toContain('Faults injected: {"error 503 after":{"injected":1,"applied":1}}');
    expect(stdout).not.toContain(KEY);
    expect(stdout).not.toContain('lost-answer@');
  });

  it('exits 2 and names the flag for a bad value', async () => {
    child = spawn(
      process.execPath,
      ['--import', 'tsx', 'local/ortto-standin/cli.ts', '--mixed-batch', 'all'],
      {
        cwd: process.cwd(),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(stderr).toContain('--mixed-batch: "all" is not valid');
  });
});
