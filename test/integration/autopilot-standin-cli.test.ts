import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_FLAGS, parseCli, USAGE } from '#local/autopilot-standin/cli.ts';
import { UsageError } from '#local/autopilot-standin/cli-args.ts';

const KEY = 'cli-key-0123456789abcdef';
const parse = (...argv: string[]) => parseCli(['--api-key', KEY, ...argv]).options;
const usageError = (argv: string[]): string => {
  try {
    parseCli(argv);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error('expected a UsageError');
};

describe('fake-autopilot flags', () => {
  it('--help documents every flag it accepts', () => {
    for (const flag of Object.keys(CLI_FLAGS)) expect(USAGE).toContain(`--${flag}`);
  });

  it('keeps the existing error flags: --error-rate 0.05 --error-status 503', () => {
    expect(parse('--error-rate', '0.05', '--error-status', '503').faults).toEqual({
      rules: [{ kind: 'error', rate: 0.05, status: 503, phase: 'before' }],
    });
  });

  it('selects every fault kind, phase and schedule by flag', () => {
    const faults = parse(
      ...['--error-rate', '0.1', '--error-status', '429', '--error-retry-after', '3600'],
      ...['--reset-rate', '0.02', '--reset-phase', 'after'],
      ...['--hang-rate', '0.01', '--hang-ms', '45000', '--hang-phase', 'after'],
      ...['--malformed-rate', '0.01', '--fault-routes', 'POST /contacts, POST /contact'],
      ...['--reject-email', 'Bad@Example.com', '--reject-email', '@blocked.example'],
      ...['--revoke-after-requests', '500', '--outage', '5000-8000', '--outage', '9000-9500:502'],
      ...['--latency', '5-10', '--faults', '{"rules":[{"kind":"error","status":500,"every":7}]}'],
    ).faults;
    const routes = ['POST /contacts', 'POST /contact'];
    expect(faults).toEqual({
      rules: [
        { kind: 'error', status: 500, every: 7 },
        { kind: 'error', rate: 0.1, status: 429, phase: 'before', retryAfter: '3600', routes },
        { kind: 'reset', rate: 0.02, phase: 'after', routes },
        { kind: 'hang', rate: 0.01, phase: 'after', hangMs: 45_000, routes },
        { kind: 'malformed', rate: 0.01, routes },
      ],
      rejectContacts: ['Bad@Example.com', '@blocked.example'],
      revokeKeys: { afterRequests: 500 },
      outages: [
        { fromMs: 5000, toMs: 8000 },
        { fromMs: 9000, toMs: 9500, status: 502 },
      ],
      latencyMs: { min: 5, max: 10 },
    });
  });

  it.each([
    [['--rate', 'fast'], '--rate'],
    [['--rate', ''], '--rate'],
    [['--rate', '0'], '--rate'],
    [['--port', '0x10'], '--port'],
    [['--port', '70000'], '--port'],
    [['--seed', '1.5'], '--seed'],
    [['--rate', '5', '--rate', '10'], '--rate: given more than once'],
    [['--error-rate', '1.5'], '--error-rate'],
    [['--error-status', '503'], '--error-status: needs --error-rate'],
    [['--error-rate', '0.1', '--error-status', '200'], '--error-status'],
    [['--error-rate', '0.1', '--error-phase', 'during'], '--error-phase'],
    [['--hang-ms', '100'], '--hang-ms: needs --hang-rate'],
    [['--reset-phase', 'after'], '--reset-phase: needs --reset-rate'],
    [['--fault-routes', 'POST /contacts'], '--fault-routes: needs one of'],
    [['--error-rate', '0.1', '--fault-routes', 'POST /contactz'], '--fault-routes: unknown route'],
    [['--reject-email', 'nobody'], '--reject-email'],
    [['--revoke-after-requests', '-1'], '--revoke-after-requests'],
    [['--outage', '8000-5000'], '--outage'],
    [['--latency', '80-20'], '--latency'],
    [['--faults', '{"rules":[{"kind":"meteor"}]}'], '--faults: rules.0.kind'],
    [['--faults', 'not json'], '--faults: not a JSON object'],
    [['--bulk-list-membership', 'maybe'], '--bulk-list-membership'],
    [['4010'], 'unexpected argument "4010"'],
    [['--colour'], "Unknown option '--colour'"],
  ])('refuses %j, naming the flag', (argv, message) => {
    expect(usageError(argv)).toContain(message);
  });

  it('never echoes a rejected address it refuses', () => {
    expect(usageError(['--reject-email', 'x y@example.com'])).not.toContain('example.com');
  });
});

describe('fake-autopilot as a program', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
  });

  it('runs with a fault flag: the write takes effect, the answer is 503, and the counts say so on exit', async () => {
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'local/autopilot-standin/cli.ts',
        ...['--port', '0', '--api-key', KEY, '--seed', '1'],
        ...['--error-rate', '1', '--error-status', '503', '--error-phase', 'after'],
        ...['--fault-routes', 'POST /contact'],
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout?.setEncoding('utf8');
    const url = await new Promise<string>((resolve, reject) => {
      child?.stdout?.on('data', (chunk: string) => {
        stdout += chunk;
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(stdout);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      child?.once('exit', (code) => reject(new Error(`CLI exited early with ${code}`)));
    });
    expect(stdout).toContain('seed 1');
    expect(stdout).toContain('faults: error 503 after 100% on POST /contact');
    const headers = { autopilotapikey: KEY, 'content-type': 'application/json' };
    const write = await fetch(`${url}/contact`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ contact: { Email: 'lost-answer@example.com' } }),
    });
    expect(write.status).toBe(503);
    const read = await fetch(`${url}/contact/lost-answer%40example.com`, { headers });
    expect(read.status).toBe(200);

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(stdout).toContain('Faults injected: {"error 503 after":{"injected":1,"applied":1}}');
    expect(stdout).not.toContain(KEY);
    expect(stdout).not.toContain('lost-answer@');
  });

  it('exits 2 and names the flag for a duplicate', async () => {
    child = spawn(
      process.execPath,
      ['--import', 'tsx', 'local/autopilot-standin/cli.ts', '--rate', '5', '--rate', '20'],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(stderr).toContain('--rate: given more than once');
  });
});
