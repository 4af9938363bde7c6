import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { MEMBER_CHARS } from '#lib/adapters/dynamodb/checkpoints.ts';
import { createDynamoDbState } from '#lib/adapters/dynamodb/state.ts';
import { CorruptCheckpointError, S3Checkpoints } from '#lib/adapters/s3/checkpoints.ts';
import { checkpointText } from '#lib/ports/checkpoints.ts';
import { createTables, localDynamo, uniqueName } from '#test/support/aws.ts';
import { describeCheckpointsContract } from '#test/support/contracts/checkpoints.ts';
import { bulkyJson } from '#test/support/contracts/helpers.ts';
import { createBucket, localS3 } from '#test/support/s3.ts';

const PREFIX = 'state/checkpoints/';

let s3: S3Client;
let bucket: string;
let checkpoints: S3Checkpoints;

beforeAll(async () => {
  s3 = localS3();
  bucket = await createBucket(s3);
  checkpoints = new S3Checkpoints({ client: s3, bucket, prefix: PREFIX });
});

const keysUnder = async (prefix: string): Promise<{ key: string; size: number }[]> => {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => ({ key: o.Key ?? '', size: o.Size ?? 0 }));
};

const rawObject = async (key: string): Promise<{ bytes: Uint8Array; metadata: Record<string, string> }> => {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return {
    bytes: (await out.Body?.transformToByteArray()) ?? new Uint8Array(),
    metadata: out.Metadata ?? {},
  };
};

const loadText = async (runId: string): Promise<string | undefined> => {
  const loaded = await checkpoints.load(runId);
  return loaded === undefined ? undefined : checkpointText(loaded);
};

const putRaw = async (key: string, body: Uint8Array, metadata: Record<string, string>): Promise<void> => {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: metadata }));
};

// The same behaviour every Checkpoints has (the in-memory fake, the state table), over S3.
describeCheckpointsContract('S3', async () => {
  const dynamo = localDynamo();
  const { stateTable } = await createTables(dynamo);
  return { ...createDynamoDbState({ client: dynamo, tableName: stateTable }), checkpoints };
});

describe('S3Checkpoints', () => {
  it('writes a multi-MB checkpoint given in pieces as one gzip object under the prefix, and reads it back', async () => {
    const runId = uniqueName('run');
    const text = bulkyJson(6_000_000);
    let pulled = 0;
    const pieces = function* () {
      for (let i = 0; i < text.length; i += 65_536) {
        pulled++;
        yield text.slice(i, i + 65_536);
      }
    };

    await checkpoints.save(runId, pieces());

    expect(pulled).toBe(Math.ceil(text.length / 65_536));
    const stored = await keysUnder(`${PREFIX}${runId}`);
    expect(stored.map((o) => o.key)).toEqual([`${PREFIX}${runId}.json.gz`]);
    expect(stored[0]?.size).toBeLessThan(text.length / 2);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${PREFIX}${runId}.json.gz` }));
    expect(head.Metadata?.sha256).toMatch(/^[0-9a-f]{64}$/);
    // Read back a gzip member at a time: never the whole text as one string.
    const loaded = [...((await checkpoints.load(runId)) ?? [])];
    expect(loaded.length).toBeGreaterThanOrEqual(Math.floor(text.length / (MEMBER_CHARS + 65_536)));
    expect(loaded.length).toBeGreaterThan(1);
    for (const piece of loaded) expect(piece.length).toBeLessThan(MEMBER_CHARS + 65_536);
    expect(loaded.join('')).toBe(text);
  });

  it('saves a checkpoint whose gzip is larger than one local PUT takes (> 11 MiB) in parts, read back whole', async () => {
    const runId = uniqueName('run');
    // Random base64 hardly compresses: ~12 MiB of gzip, which fauxqs (11 MiB at most) refused as one PUT.
    const text = randomBytes(12_000_000).toString('base64');

    await checkpoints.save(runId, text);

    // The run key is an empty pointer to a body beside it, which holds every byte and their hash.
    const stored = await keysUnder(`${PREFIX}${runId}.`);
    expect(stored.map((o) => o.key).sort()).toEqual([
      expect.stringMatching(new RegExp(`^${PREFIX}${runId}\\.[0-9a-f]{12}\\.body\\.gz$`)),
      `${PREFIX}${runId}.json.gz`,
    ]);
    const pointer = await rawObject(`${PREFIX}${runId}.json.gz`);
    expect(pointer.bytes.length).toBe(0);
    const body = await rawObject(pointer.metadata.body ?? '');
    expect(body.bytes.length).toBeGreaterThan(11 * 1024 * 1024);
    expect(pointer.metadata.sha256).toBe(createHash('sha256').update(body.bytes).digest('hex'));
    expect(await loadText(runId)).toBe(text);
  });

  it('refuses a large body whose bytes do not match the pointer’s sha256, leaving no file open', async () => {
    const runId = uniqueName('run');
    await checkpoints.save(runId, randomBytes(12_000_000).toString('base64'));
    const key = `${PREFIX}${runId}.json.gz`;
    const pointer = await rawObject(key);
    await putRaw(key, new Uint8Array(), { ...pointer.metadata, sha256: '0'.repeat(64) });
    const fds = readdirSync('/proc/self/fd').length;

    await expect(checkpoints.load(runId)).rejects.toThrow(/do not match the sha256 it was saved with/);
    expect(readdirSync('/proc/self/fd').length).toBe(fds);
  });

  it('sends a large checkpoint’s first part before the text is all made, so it never holds it whole', async () => {
    const runId = uniqueName('run');
    let made = 0;
    const pieces = function* () {
      for (let i = 0; i < 24; i++) {
        made++;
        yield randomBytes(750_000).toString('base64');
      }
    };
    const madeAtEachPart: number[] = [];
    const client = localS3();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UploadPartCommand') madeAtEachPart.push(made);
        return next(args);
      },
      { step: 'initialize', name: 'partWatcher' },
    );

    await new S3Checkpoints({ client, bucket, prefix: PREFIX }).save(runId, pieces());

    expect(madeAtEachPart.length).toBeGreaterThan(2);
    expect(madeAtEachPart[0]).toBeLessThan(24);
    expect(await loadText(runId)).toHaveLength(24 * 1_000_000);
  });

  it('replacing a large checkpoint, with a large or a small one, deletes the body it pointed at; delete removes both', async () => {
    const runId = uniqueName('run');
    const big = () => randomBytes(10_000_000).toString('base64');
    const bodies = async () =>
      (await keysUnder(`${PREFIX}${runId}.`)).map((o) => o.key).filter((k) => k.endsWith('.body.gz'));

    await checkpoints.save(runId, big());
    const [first] = await bodies();
    const second = big();
    await checkpoints.save(runId, second);
    const after = await bodies();
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(first);
    expect(await loadText(runId)).toBe(second);

    await checkpoints.save(runId, 'small again');
    expect(await bodies()).toEqual([]);
    expect(await loadText(runId)).toBe('small again');

    await checkpoints.save(runId, big());
    await checkpoints.delete(runId);
    expect(await keysUnder(`${PREFIX}${runId}.`)).toEqual([]);
    expect(await checkpoints.load(runId)).toBeUndefined();
  });

  it('a large save that dies before its pointer is written leaves the previous checkpoint', async () => {
    const runId = uniqueName('run');
    await checkpoints.save(runId, 'the previous plan');
    const client = localS3();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: string };
        if (context.commandName === 'PutObjectCommand' && input.Key === `${PREFIX}${runId}.json.gz`)
          throw new Error('the planner died here');
        return next(args);
      },
      { step: 'initialize', name: 'dieBeforePointer' },
    );

    await expect(
      new S3Checkpoints({ client, bucket, prefix: PREFIX }).save(
        runId,
        randomBytes(10_000_000).toString('base64'),
      ),
    ).rejects.toThrow('the planner died here');

    expect(await loadText(runId)).toBe('the previous plan');
  });

  it('refuses a pointer to an object that is not a body of its run, or to a body that is gone', async () => {
    const runId = uniqueName('run');
    const other = uniqueName('run');
    await checkpoints.save(other, randomBytes(10_000_000).toString('base64'));
    const otherBody = (await rawObject(`${PREFIX}${other}.json.gz`)).metadata.body ?? '';
    const key = `${PREFIX}${runId}.json.gz`;

    await putRaw(key, new Uint8Array(), { sha256: 'a'.repeat(64), body: otherBody });
    await expect(checkpoints.load(runId)).rejects.toThrow(
      new CorruptCheckpointError(key, `points at ${otherBody}, not a body of its run`),
    );
    const gone = `${PREFIX}${runId}.0123456789ab.body.gz`;
    await putRaw(key, new Uint8Array(), { sha256: 'a'.repeat(64), body: gone });
    await expect(checkpoints.load(runId)).rejects.toThrow(
      new CorruptCheckpointError(key, `points at ${gone}, which is gone`),
    );
  });

  it('uploads a large checkpoint as parts of whole gzip members, never one copied body', async () => {
    const runId = uniqueName('run');
    const text = randomBytes(15_000_000).toString('base64');
    const parts: Buffer[] = [];
    const client = localS3();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UploadPartCommand')
          parts.push(Buffer.from((args.input as { Body: Uint8Array }).Body));
        return next(args);
      },
      { step: 'initialize', name: 'partRecorder' },
    );

    await new S3Checkpoints({ client, bucket, prefix: PREFIX }).save(runId, text);

    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect([...part.subarray(0, 4)]).toEqual([0x1f, 0x8b, 8, 0]);
    for (const part of parts.slice(0, -1)) expect(part.length).toBeGreaterThanOrEqual(5 * 1024 * 1024);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(await loadText(runId)).toBe(text);
  });

  it('reads a body that arrives in chunks, and refuses one shorter than its declared length', async () => {
    const body = gzipSync('{"phase":"emit"}');
    const answer = (chunks: Uint8Array[], length: number) => ({
      send: async () => ({
        ContentLength: length,
        Metadata: { sha256: createHash('sha256').update(body).digest('hex') },
        Body: Object.assign(
          (async function* () {
            yield* chunks;
          })(),
          { transformToByteArray: async () => Buffer.concat(chunks) },
        ),
      }),
    });
    const over = (chunks: Uint8Array[], length: number) =>
      new S3Checkpoints({ client: answer(chunks, length) as unknown as S3Client, bucket, prefix: PREFIX });

    const whole = await over([body.subarray(0, 7), body.subarray(7)], body.length).load('run-1');
    expect(checkpointText(whole ?? [])).toBe('{"phase":"emit"}');
    await expect(over([body.subarray(0, 7)], body.length).load('run-1')).rejects.toThrow(
      new RegExp(`${PREFIX}run-1\\.json\\.gz: its body ended at byte 7 of ${body.length}`),
    );
  });

  it('replaces a checkpoint in place: one object, the newest text', async () => {
    const runId = uniqueName('run');
    await checkpoints.save(runId, bulkyJson(1_500_000));
    await checkpoints.save(runId, '{"phase":"emit"}');

    expect(await loadText(runId)).toBe('{"phase":"emit"}');
    expect((await keysUnder(`${PREFIX}${runId}`)).length).toBe(1);
  });

  it('answers undefined for a run never saved, and after delete; deleting twice is fine', async () => {
    const runId = uniqueName('run');
    expect(await loadText(runId)).toBeUndefined();

    await checkpoints.save(runId, '{"v":1}');
    await checkpoints.delete(runId);
    await checkpoints.delete(runId);

    expect(await loadText(runId)).toBeUndefined();
    expect(await keysUnder(`${PREFIX}${runId}`)).toEqual([]);
  });

  it('refuses a truncated object, naming its key', async () => {
    const runId = uniqueName('run');
    const key = `${PREFIX}${runId}.json.gz`;
    await checkpoints.save(runId, JSON.stringify({ noise: randomBytes(200_000).toString('base64') }));
    const { bytes, metadata } = await rawObject(key);
    await putRaw(key, bytes.subarray(0, Math.floor(bytes.length / 2)), metadata);

    const error = await checkpoints.load(runId).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CorruptCheckpointError);
    expect((error as Error).message).toContain(key);
    expect((error as Error).message).toMatch(/sha256/);
  });

  it('refuses an object that is not gzip even when its hash matches, and one without a hash', async () => {
    const notGzip = uniqueName('run');
    const body = new TextEncoder().encode('{"plain":"json"}');
    await putRaw(`${PREFIX}${notGzip}.json.gz`, body, {
      sha256: createHash('sha256').update(body).digest('hex'),
    });
    const noHash = uniqueName('run');
    await putRaw(`${PREFIX}${noHash}.json.gz`, body, {});

    await expect(checkpoints.load(notGzip)).rejects.toThrow(
      new RegExp(`${PREFIX}${notGzip}\\.json\\.gz: is not gzip`),
    );
    await expect(checkpoints.load(noHash)).rejects.toThrow(
      new RegExp(`${PREFIX}${noHash}\\.json\\.gz: has no sha256 metadata`),
    );
  });

  it('refuses, while the text is read, bytes after a member that are not another member', async () => {
    const runId = uniqueName('run');
    const key = `${PREFIX}${runId}.json.gz`;
    await checkpoints.save(runId, '{"v":1}');
    const { bytes } = await rawObject(key);
    const tampered = Buffer.concat([bytes, Buffer.from('trailing')]);
    await putRaw(key, tampered, { sha256: createHash('sha256').update(tampered).digest('hex') });

    const loaded = await checkpoints.load(runId);

    expect(() => checkpointText(loaded ?? [])).toThrow(
      new RegExp(`${PREFIX}${runId}\\.json\\.gz: is not gzip at byte ${bytes.length}`),
    );
  });

  it('refuses a run id that could leave the prefix, naming the field', async () => {
    await expect(checkpoints.save('../refreshes/x', '{}')).rejects.toThrow(/runId/);
    await expect(checkpoints.load('a/b')).rejects.toThrow(/runId/);
    expect(await keysUnder('refreshes/')).toEqual([]);
  });
});
