import { randomBytes } from 'node:crypto';
import {
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbState } from '#lib/adapters/dynamodb/state.ts';
import { checkpointText } from '#lib/ports/checkpoints.ts';
import type { State } from '#lib/ports/state.ts';
import { aBatchOutcome, aConnection, aRun } from '#test/fixtures/state-records.ts';
import { createTables, localDynamo, uniqueName } from '#test/support/aws.ts';
import { readAll } from '#test/support/contracts/helpers.ts';
import { describeStateContracts } from '#test/support/contracts/index.ts';

let client: DynamoDBClient;
let tableName: string;
let state: State;

beforeAll(async () => {
  client = localDynamo();
  tableName = (await createTables(client)).stateTable;
  state = createDynamoDbState({ client, tableName });
});

describeStateContracts('DynamoDB', async () => state);

const partition = async (pk: string) => {
  const out = await client.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: pk } },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
};

describe('DynamoDB state (DynamoDB specifics)', () => {
  it('a corrupt run item throws an error naming the item key and the field', async () => {
    const run = aRun({ id: uniqueName('run') });
    await state.runs.create(run);
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { pk: { S: `RUN#${run.id}` }, sk: { S: 'META' } },
        UpdateExpression: 'SET progress.accepted = :bad',
        ExpressionAttributeValues: { ':bad': { S: 'lots' } },
      }),
    );

    const read = state.runs.get(run.id);

    await expect(read).rejects.toThrow(`pk=RUN#${run.id}`);
    await expect(read).rejects.toThrow('progress.accepted');
    await expect(read).rejects.toMatchObject({ name: 'CorruptItemError', field: 'progress.accepted' });
  });

  it("a corrupt snapshot part's error names its key and says it cannot be read, never its contents", async () => {
    const exportId = uniqueName('exp');
    await state.snapshots.apply(exportId, [
      { key: 'jane.doe@example.com', hash: 'h1', join: ['seg-a'], leave: [], forget: false },
    ]);
    const part = (await partition(`SNAP#${exportId}`)).find((i) => i.sk?.S?.startsWith('D#'));
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { ...part, z: { B: new TextEncoder().encode('jane.doe@example.com, not gzip') } } as never,
      }),
    );

    const read = readAll(state, exportId);

    await expect(read).rejects.toMatchObject({
      name: 'CorruptItemError',
      field: 'z',
      key: { sk: part?.sk?.S },
    });
    await expect(read).rejects.not.toThrow('jane');
  });

  it('a corrupt connection in a listing names its key too', async () => {
    const id = uniqueName('conn');
    await state.connections.create(aConnection({ id }));
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { pk: { S: `CONN#${id}` }, sk: { S: 'META' } },
        UpdateExpression: 'REMOVE consent',
      }),
    );

    await expect(state.connections.list()).rejects.toThrow(new RegExp(`pk=CONN#${id}.*"consent"`));
    await state.connections.delete(id);
  });

  it('batches and samples expire after 30 days, the run itself never', async () => {
    const run = aRun({ id: uniqueName('run'), status: 'sending' });
    await state.runs.create(run);
    await state.plans.commit(run.id, { batchesTotal: 2, itemsPlanned: 200, at: run.createdAt });
    const before = Math.floor(Date.now() / 1000);

    await state.batches.record(run.id, 1, { from: 0, to: 100, final: true }, aBatchOutcome());

    const items = await partition(`RUN#${run.id}`);
    const ttl = (sk: string) => items.find((i) => i.sk?.S === sk)?.expiresAt?.N;
    expect(Number(ttl('BATCH#00000001')) - before).toBeGreaterThanOrEqual(30 * 86_400 - 5);
    expect(Number(ttl('ERR#00000001#0000#0')) - before).toBeLessThanOrEqual(30 * 86_400 + 5);
    expect(ttl('META')).toBeUndefined();
  });

  it('a large checkpoint is stored compressed in chunks of at most 300 KB with a 2-day TTL', async () => {
    const runId = uniqueName('run');
    // Random bytes barely compress, so ~1.2 MB of base64 text needs several chunks.
    const data = JSON.stringify({ noise: randomBytes(900_000).toString('base64') });

    await state.checkpoints.save(runId, data);

    const items = (await partition(`RUN#${runId}`)).filter((i) => i.sk?.S?.startsWith('CKPT#'));
    const chunks = items.filter((i) => i.sk?.S !== 'CKPT#HEAD');
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks) expect(c.d?.S?.length).toBeLessThanOrEqual(300_000);
    const days = (Number(items[0]?.expiresAt?.N) - Date.now() / 1000) / 86_400;
    expect(days).toBeGreaterThan(1.9);
    expect(days).toBeLessThanOrEqual(2);
    expect(checkpointText((await state.checkpoints.load(runId)) ?? '')).toBe(data);
  });

  it('a checkpoint of many megabytes loads a gzip member at a time, never as one text', async () => {
    const runId = uniqueName('run');
    const line = (i: number): string => `${JSON.stringify([`person${i}@example.com`, `p${i}`, i])}\n`;
    const pieces = function* () {
      for (let i = 0; i < 100_000; i++) yield line(i);
    };

    await state.checkpoints.save(runId, pieces());

    const loaded = await state.checkpoints.load(runId);
    const parts = typeof loaded === 'string' || loaded === undefined ? [loaded ?? ''] : [...loaded];
    const total = parts.reduce((n, p) => n + p.length, 0);
    expect(total).toBeGreaterThan(3 * 2 ** 20);
    expect(Math.max(...parts.map((p) => p.length))).toBeLessThan(total / 2);
    expect(parts.join('')).toBe([...pieces()].join(''));
  });

  it('a newer checkpoint whose save died before flipping the head is never read', async () => {
    const runId = uniqueName('run');
    await state.checkpoints.save(runId, '{"page":1}');
    // What a save that crashed after writing its chunks leaves behind.
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { pk: { S: `RUN#${runId}` }, sk: { S: 'CKPT#ffffffffffffffff#0000' }, d: { S: 'H4sIAAAA' } },
      }),
    );

    expect(checkpointText((await state.checkpoints.load(runId)) ?? '')).toBe('{"page":1}');

    await state.checkpoints.save(runId, '{"page":2}');
    expect(checkpointText((await state.checkpoints.load(runId)) ?? '')).toBe('{"page":2}');
    // The replaced generation is gone: the new head and its one chunk remain (and the crashed save's leftover).
    const left = (await partition(`RUN#${runId}`)).map((i) => i.sk?.S ?? '');
    const current = left.filter((sk) => !sk.startsWith('CKPT#ffff') && sk !== 'CKPT#HEAD');
    expect(left).toContain('CKPT#HEAD');
    expect(current).toEqual([expect.stringMatching(/^CKPT#[0-9a-f]{16}#0000$/)]);
    await state.checkpoints.delete(runId);
    expect(await partition(`RUN#${runId}`)).toEqual([]);
  });

  it('a checkpoint whose chunks were lost is reported, not half-read', async () => {
    const runId = uniqueName('run');
    await state.checkpoints.save(runId, JSON.stringify({ noise: randomBytes(500_000).toString('base64') }));
    const chunk = (await partition(`RUN#${runId}`)).find((i) => i.sk?.S?.endsWith('#0001'));
    await client.send(
      new PutItemCommand({ TableName: tableName, Item: { ...chunk, d: { S: 'tampered' } } as never }),
    );

    await expect(state.checkpoints.load(runId)).rejects.toThrow(/CKPT#HEAD.*chunks/);
  });

  it('a snapshot log is a head and compressed parts, not an item per contact or membership', async () => {
    const exportId = uniqueName('exp');
    const changes = Array.from({ length: 2_000 }, (_, i) => ({
      key: `user${i}@example.com`,
      hash: `hash-${i}`,
      ...(i === 0 ? { email: 'User0@example.com' } : {}),
      join: ['seg-a', 'seg-b'],
      leave: [],
      forget: false,
    }));

    await state.snapshots.apply(exportId, changes);

    const items = await partition(`SNAP#${exportId}`);
    expect(items.map((i) => i.sk?.S?.replace(/^(D#\d+#)[^#]+#/, '$1<gen>#'))).toEqual([
      'D#000000#<gen>#00000000',
      'HEAD',
    ]);
    const entries = await readAll(state, exportId);
    expect(entries).toHaveLength(2_000);
    expect(entries.find((e) => e.key === 'user0@example.com')).toEqual({
      key: 'user0@example.com',
      hash: 'hash-0',
      email: 'User0@example.com',
      segmentIds: ['seg-a', 'seg-b'],
    });
  });

  it('reads a snapshot whose parts span several query pages', async () => {
    const exportId = uniqueName('exp');
    // Random hashes do not compress: 700 × 2 KB is several parts and more than one 1 MB Query page.
    const hashes = Array.from({ length: 700 }, () => randomBytes(1_500).toString('base64'));
    const changes = hashes.map((hash, i) => ({
      key: `user${String(i).padStart(4, '0')}@example.com`,
      hash,
      join: ['seg-a'],
      leave: [],
      forget: false,
    }));

    await state.snapshots.apply(exportId, changes);

    const parts = (await partition(`SNAP#${exportId}`)).filter((i) => i.sk?.S?.startsWith('D#'));
    expect(parts.length).toBeGreaterThanOrEqual(3);
    const entries = await readAll(state, exportId);
    expect(entries.map((e) => [e.key, e.hash, e.segmentIds])).toEqual(
      changes.map((c) => [c.key, c.hash, ['seg-a']]),
    );
  });
});
