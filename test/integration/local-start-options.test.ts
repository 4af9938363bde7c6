import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '#local/autopilot-standin/cli-args.ts';
import { FAULT_FLAGS } from '#local/autopilot-standin/fault-flags.ts';
import { type AutopilotStandIn, startAutopilotStandIn } from '#local/autopilot-standin/index.ts';
import { HELP, parseStartOptions, START_FLAGS } from '#local/cli/start.ts';

/** Issue 9, hole 10: every `npm start` flag is honoured or refused with a message, never ignored. */

const URL_FLAG = ['--autopilot-url', 'https://api2.autopilothq.com/v1'];
const REAL_ENV = { AUTOPILOT_API_KEY: 'real-key-0123456789abcdef' };
const refused = (argv: string[], env: NodeJS.ProcessEnv = {}): string => {
  try {
    parseStartOptions(argv, env);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error('expected a UsageError');
};

describe('npm start options', () => {
  it('--help documents every flag it accepts', () => {
    for (const flag of Object.keys({ ...START_FLAGS, ...FAULT_FLAGS })) expect(HELP).toContain(`--${flag}`);
  });

  it('honours --rate 20 against a real account, saying it is above the documented 5/s', () => {
    const options = parseStartOptions(['--rate', '20', ...URL_FLAG], REAL_ENV);
    expect(options.rate).toBe(20);
    expect(options.autopilot).toEqual({ kind: 'real', url: URL_FLAG[1], apiKey: REAL_ENV.AUTOPILOT_API_KEY });
    expect(options.notes.join(' ')).toMatch(/--rate 20 is above Autopilot's documented 5 requests\/s/);
  });

  it('defaults to 5/s against a real account and 100/s against the stand-in, with nothing to note', () => {
    expect(parseStartOptions(URL_FLAG, REAL_ENV)).toMatchObject({ rate: 5, notes: [] });
    expect(parseStartOptions([], {})).toMatchObject({ rate: 100, notes: [], autopilot: { kind: 'standin' } });
    expect(parseStartOptions(['--rate', '3', ...URL_FLAG], REAL_ENV)).toMatchObject({ rate: 3, notes: [] });
  });

  it('says so when AUTOPILOT_API_KEY is set but unused', () => {
    expect(parseStartOptions([], REAL_ENV).notes.join(' ')).toMatch(
      /AUTOPILOT_API_KEY is set but --autopilot-url is not/,
    );
  });

  it('passes the stand-in fault switches through', () => {
    const options = parseStartOptions(
      ['--error-rate', '0.05', '--error-status', '503', '--reset-rate', '0.01', '--reset-phase', 'after'],
      {},
    );
    expect(options.faults).toEqual({
      rules: [
        { kind: 'error', rate: 0.05, status: 503, phase: 'before' },
        { kind: 'reset', rate: 0.01, phase: 'after' },
      ],
    });
  });

  it.each([
    [['--rate', '20', ...URL_FLAG], {}, '--autopilot-url: needs the API key in the AUTOPILOT_API_KEY'],
    [
      ['--bulk-list-membership', 'honour', ...URL_FLAG],
      REAL_ENV,
      '--bulk-list-membership: a switch of the local stand-in',
    ],
    [['--error-rate', '0.05', ...URL_FLAG], REAL_ENV, '--error-rate: a switch of the local stand-in'],
    [
      ['--mode', 'field', '--bulk-list-membership', 'honour'],
      {},
      '--bulk-list-membership: only matters in list mode',
    ],
    [['--autopilot-url', 'ftp://example.com'], REAL_ENV, '--autopilot-url'],
    [['--rate', '0.01'], {}, '--rate'],
    [['--rate', '1001'], {}, '--rate'],
    [['--profiles', ''], {}, '--profiles'],
    [['--profiles', '1e9'], {}, '--profiles'],
    [['--seed', ''], {}, '--seed'],
    [['--seed', '0x10'], {}, '--seed'],
    [['--concurrency', '33'], {}, '--concurrency'],
    [['--mode', 'lists'], {}, '--mode'],
    [['--rate', '5', '--rate', '20'], {}, '--rate: given more than once'],
    [['20', 'http://x'], {}, 'npm start -- --rate 20'],
    [[], { npm_config_profiles: '100' }, '--profiles: npm kept this flag for itself'],
    [['--error-status', '503'], {}, '--error-status: needs --error-rate'],
  ] as const)('refuses %j (env %j), naming the flag', (argv, env, message) => {
    expect(refused([...argv], env)).toContain(message);
  });
});

describe('npm start as a program', () => {
  let child: ChildProcess | undefined;
  let autopilot: AutopilotStandIn | undefined;
  afterEach(() => {
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
  });
  afterAll(async () => {
    await autopilot?.close();
  });

  const runStart = async (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    child = spawn(process.execPath, ['--import', 'tsx', 'local/cli/start.ts', ...argv], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr?.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const [code] = await once(child, 'exit');
    return { code: code as number, stdout, stderr };
  };

  it('exits 2 with the flag named, before starting anything', async () => {
    const { code, stderr } = await runStart(['--rate', 'fast']);
    expect(code).toBe(2);
    expect(stderr).toContain('--rate: "fast" is not valid');
  });

  it('runs against an Autopilot at the --rate asked for, and verifies within its limit', async () => {
    // An "account" limited to 20 requests/s with no burst: any read or write above the budget is a 429.
    const key = 'acct-key-0123456789abcdef';
    autopilot = await startAutopilotStandIn({ apiKeys: [key], ratePerSecond: 20, burst: 1, seed: 4 });
    const { code, stdout, stderr } = await runStart(
      ['--autopilot-url', autopilot.url, '--rate', '20', '--profiles', '60', '--concurrency', '2'],
      { AUTOPILOT_API_KEY: key },
    );
    expect(stderr).toBe('');
    expect(stdout).toContain('--rate 20 is above');
    expect(stdout).toContain('(budget 20 requests/s)');
    expect(stdout).toMatch(/✔ Verification: every Autopilot list equals its segment/);
    // The runs start as in the cloud: a dropped refresh's arrival, not a direct call.
    expect(stdout).toMatch(/refresh \S+ arrived → run \S+ started/);
    expect(stdout).not.toContain(key);
    expect(code).toBe(0);
  });

  it('shows the removal guardrail once: the mass leave is held, approved from the command line, then verified', async () => {
    // 600 profiles put ~400 in the largest segment: its 30% mass leave is over 10% and over 100.
    const { code, stdout, stderr } = await runStart(['--profiles', '600', '--concurrency', '2']);
    expect(stderr).toBe('');
    const held = stdout.indexOf('⏸ Held by the removal guardrail:');
    const approved = stdout.indexOf('Approved as an admin (POST /runs/');
    const verified = stdout.search(/✔ Verification: every Autopilot list equals its segment/);
    expect(held).toBeGreaterThan(0);
    expect(stdout.split('⏸ Held by the removal guardrail:')).toHaveLength(2);
    expect(stdout).toMatch(/Newsletter subscribers: \d+ of \d+ members \(over the threshold\)/);
    expect(approved).toBeGreaterThan(held);
    expect(verified).toBeGreaterThan(approved);
    expect(code).toBe(0);
  });
});
