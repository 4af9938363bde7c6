import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as z from 'zod';

/*
 * Where a running `npm run serve` takes drops: its local S3 endpoint and segment bucket, written when
 * it starts and removed when it stops, so `npm run drop -- --dir …` needs no other flag.
 */

export const SERVE_STATE_PATH = '.local-data/serve.json';

const ServeStateSchema = z.object({
  endpoint: z.url(),
  bucket: z.string().min(1).max(63),
  pid: z.number().int().positive(),
});
export type ServeState = z.infer<typeof ServeStateSchema>;

export const writeServeState = async (state: ServeState, path = SERVE_STATE_PATH): Promise<void> => {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(state, null, 2)}\n`);
};

export const removeServeState = async (path = SERVE_STATE_PATH): Promise<void> => {
  await rm(path, { force: true });
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The running serve's drop target; a reason instead when there is none or it has stopped. */
export const readServeState = async (
  path = SERVE_STATE_PATH,
): Promise<{ ok: true; state: ServeState } | { ok: false; reason: string }> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { ok: false, reason: `no ${path}: \`npm run serve\` is not running here` };
  }
  let json: unknown;
  try {
    json = text.length > 64 * 1024 ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = ServeStateSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `${path} is not what \`npm run serve\` writes` };
  if (!alive(parsed.data.pid)) {
    return {
      ok: false,
      reason: `${path} names \`npm run serve\` process ${parsed.data.pid}, which has stopped`,
    };
  }
  return { ok: true, state: parsed.data };
};
