import { pathToFileURL } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { flagsTakenByNpm, parseFlags, UsageError } from '../autopilot-standin/cli-args.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../dynamodb-local.ts';
import { checkRefreshId, DropFileError, dropRefresh } from '../refresh-drop.ts';
import { ACCEPTED_EXTENSIONS, NAMES_FILE, readRefreshFolder } from '../refresh-folder.ts';
import { readServeState, SERVE_STATE_PATH, type ServeState } from '../serve-state.ts';

export const DROP_HELP = `npm run drop — turn a folder of segment files into a refresh (files first, manifest last)

  npm run drop -- --dir ./my-segments [--bucket B] [--endpoint URL] [--refresh-id ID] [--id-field id]

Each file in the folder is one segment: its id is the file name without the extension
(vip-customers.csv.gz → vip-customers), its format the extension (${ACCEPTED_EXTENSIONS}).
A ${NAMES_FILE} beside them may name the segments: [{"id": "vip-customers", "name": "VIP customers"}].
Rows and SHA-256 of every file are declared in the manifest, so the exporter verifies them.

Options:
  --dir DIR          the folder (required)
  --bucket B         the segment bucket (default: the one \`npm run serve\` is running, from ${SERVE_STATE_PATH})
  --endpoint URL     an S3-compatible endpoint (default: \`npm run serve\`'s local S3). With --bucket and no
                     --endpoint the drop goes to AWS S3 with the default AWS credential chain.
  --refresh-id ID    the refresh folder's name: letters, digits, ".", "_", "-" (default: the time, sortable)
  --id-field NAME    the column or key holding the profile id (default id); a file without it is refused
  --help             show this help
`;

export const DROP_FLAGS = {
  dir: { type: 'string' },
  bucket: { type: 'string' },
  endpoint: { type: 'string' },
  'refresh-id': { type: 'string' },
  'id-field': { type: 'string' },
  help: { type: 'boolean' },
} as const;

export interface DropCliOptions {
  dir: string;
  bucket: string;
  /** Absent: AWS S3 itself. */
  endpoint?: string;
  refreshId?: string;
  idField: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/;

const httpUrl = (flag: string, raw: string): string => {
  let url: URL | undefined;
  try {
    url = raw.length <= 2_000 ? new URL(raw) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError(`--${flag}: "${raw.slice(0, 80)}" is not an http(s) URL.`);
  }
  return raw;
};

/**
 * Flags first; what they leave open comes from the running `npm run serve` (`serve`), and without
 * one a drop needs --bucket. Every refusal names the flag.
 */
export const parseDropOptions = (
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  serve: { ok: true; state: ServeState } | { ok: false; reason: string },
): DropCliOptions => {
  const v = parseFlags(argv, DROP_FLAGS, 'run drop');
  const taken = flagsTakenByNpm(Object.keys(DROP_FLAGS), env).filter((name) => name !== 'help');
  if (taken[0] !== undefined) {
    throw new UsageError(
      `--${taken[0]}: npm kept this flag for itself; put flags after "--" (npm run drop -- --${taken[0]} …).`,
    );
  }
  const str = (flag: string): string | undefined => v[flag] as string | undefined;
  const dir = str('dir');
  if (dir === undefined || dir === '') throw new UsageError('--dir: required (the folder of segment files).');
  const endpointFlag = str('endpoint') === undefined ? undefined : httpUrl('endpoint', str('endpoint') ?? '');
  let bucket = str('bucket');
  let endpoint = endpointFlag;
  if (bucket === undefined) {
    if (!serve.ok) {
      throw new UsageError(
        `--bucket: not given, and ${serve.reason}. Start \`npm run serve\`, or pass --bucket (with --endpoint for a local S3).`,
      );
    }
    bucket = serve.state.bucket;
    endpoint ??= serve.state.endpoint;
  } else if (bucket.length < 3 || bucket.length > 63 || !BUCKET_NAME.test(bucket)) {
    throw new UsageError(`--bucket: "${bucket.slice(0, 80)}" is not an S3 bucket name.`);
  }
  const refreshId = str('refresh-id');
  if (refreshId !== undefined) {
    try {
      checkRefreshId(refreshId);
    } catch (error) {
      throw new UsageError(`--refresh-id: ${(error as Error).message}`);
    }
  }
  const idField = str('id-field') ?? 'id';
  if (idField.trim() === '' || idField.length > 256) {
    throw new UsageError('--id-field: must be 1–256 characters.');
  }
  return {
    dir,
    bucket,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(refreshId === undefined ? {} : { refreshId }),
    idField,
  };
};

const s3For = (endpoint: string | undefined): S3Client =>
  endpoint === undefined
    ? new S3Client({})
    : new S3Client({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });

const run = async (options: DropCliOptions): Promise<void> => {
  const segments = await readRefreshFolder(options.dir);
  const s3 = s3For(options.endpoint);
  try {
    const dropped = await dropRefresh({ s3, bucket: options.bucket }, segments, {
      ...(options.refreshId === undefined ? {} : { refreshId: options.refreshId }),
      idField: options.idField,
    });
    const where = options.endpoint === undefined ? 'AWS S3' : options.endpoint;
    console.log(
      `Refresh ${dropped.refreshId} dropped into s3://${options.bucket}/refreshes/${dropped.refreshId}/ (${where}):`,
    );
    for (const segment of dropped.manifest.segments) {
      const rows = segment.files.reduce((n, f) => n + (f.rows ?? 0), 0);
      const files = segment.files.map((f) => f.key).join(', ');
      const count = `${rows.toLocaleString('en-US')} ${rows === 1 ? 'row' : 'rows'}`;
      console.log(`  ${segment.id} "${segment.name}": ${count} (${files})`);
    }
    console.log(
      `Manifest written last: ${dropped.manifestKey}. Its arrival starts every scheduled export using these segments.`,
    );
  } finally {
    s3.destroy();
  }
};

const main = async (argv: string[]): Promise<void> => {
  if (argv.includes('--help')) {
    process.stdout.write(DROP_HELP);
    return;
  }
  try {
    await run(parseDropOptions(argv, process.env, await readServeState()));
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof DropFileError)) throw error;
    process.stderr.write(`npm run drop: ${error.message}\n`);
    if (error instanceof UsageError) process.stderr.write('\nnpm run drop -- --help lists every option.\n');
    process.exit(2);
  }
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    const e = error as { name?: string; message?: string };
    process.stderr.write(`npm run drop failed: ${e.name ?? 'Error'}: ${e.message ?? String(error)}\n`);
    process.exit(1);
  });
}
