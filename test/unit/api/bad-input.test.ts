import { describe, expect, it } from 'vitest';
import { ApiHarness, editable, validConnection } from '#test/support/api-harness.ts';

const setup = async () => {
  const h = new ApiHarness();
  h.segments.set('seg-a', 'Newsletter', [{ id: '1', attributes: { email: 'a@example.com' } }]);
  h.segments.set('seg-b', 'Customers', [{ id: '2', attributes: { email: 'b@example.com' } }]);
  h.segments.set('seg-c', 'Newsletter', [{ id: '3', attributes: { email: 'c@example.com' } }]);
  await h.addConnection();
  await h.addExport();
  return h;
};

const validExport = {
  name: 'Export',
  connectionId: 'conn-1',
  segmentIds: ['seg-a'],
  dataMatching: { email: 'email' },
};

/** The problem response names each bad field with a reason. */
const fieldErrors = (body: { errors?: Array<{ path: string; reason: string }> }) =>
  Object.fromEntries((body.errors ?? []).map((e) => [e.path, e.reason]));

const expectProblem = (reply: { status: number; headers: Record<string, string> }, status: number) => {
  expect(reply.status).toBe(status);
  expect(reply.headers['content-type']).toBe('application/problem+json');
};

describe('the runs cursor', () => {
  it.each([
    ['garbage', 'garbage'],
    ['base64 of garbage', Buffer.from('garbage').toString('base64url')],
    ['base64 of a key without a time', Buffer.from('x#run-1').toString('base64url')],
    [
      'padded base64 of a real-looking key',
      Buffer.from('2025-01-01T00:00:00.000Z#run-12').toString('base64'),
    ],
    ['an over-long cursor', 'A'.repeat(5000)],
  ])('%s → 400 naming query.cursor', async (_name, cursor) => {
    const h = await setup();
    const reply = await h.call('GET', `/exports/exp-1/runs?cursor=${encodeURIComponent(cursor)}`);
    expectProblem(reply, 400);
    expect(Object.keys(fieldErrors(reply.body))).toEqual(['query.cursor']);
  });

  it('the cursor of the previous page still pages on', async () => {
    const h = await setup();
    for (let i = 0; i < 3; i++) await h.start();
    const first = await h.call('GET', '/exports/exp-1/runs?limit=2');
    expect(first.body.runs).toHaveLength(2);
    const second = await h.call('GET', `/exports/exp-1/runs?limit=2&cursor=${first.body.next}`);
    expect(second.status, second.text).toBe(200);
    expect(second.body.runs).toHaveLength(1);
  });
});

describe('ids in paths', () => {
  const long = 'x'.repeat(257);
  const multibyte = 'é'.repeat(129); // 258 bytes
  it.each([
    ['GET', `/exports/${long}`],
    ['GET', `/exports/${multibyte}`],
    ['PUT', `/exports/${long}`],
    ['DELETE', `/exports/${long}`],
    ['GET', `/exports/${long}/runs`],
    ['POST', `/exports/${long}/runs`],
    ['POST', `/exports/${long}/duplicate`],
    ['GET', `/connections/${long}`],
    ['DELETE', `/connections/${long}`],
    ['GET', `/runs/${long}`],
    ['POST', `/runs/${long}/cancel`],
    ['GET', '/exports/bad\u0000id'],
  ])('%s %s → 400 before the store is asked', async (method, url) => {
    const h = await setup();
    const asked: string[] = [];
    for (const [port, name] of [
      ['exports', 'get'],
      ['connections', 'get'],
      ['runs', 'get'],
      ['runs', 'list'],
    ] as const) {
      const target = h.state[port] as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
      const original = (target[name] as (...args: unknown[]) => Promise<unknown>).bind(target);
      Object.assign(target, {
        [name]: (...args: unknown[]) => {
          asked.push(`${port}.${name}`);
          return original(...args);
        },
      });
    }
    const reply = await h.call(method, encodeURI(url), method === 'PUT' ? { body: {} } : {});
    expectProblem(reply, 400);
    expect(Object.keys(fieldErrors(reply.body))).toEqual(['path.id']);
    expect(asked).toEqual([]);
  });

  it('an id of exactly the limit is looked up (404)', async () => {
    const h = await setup();
    expect((await h.call('GET', `/exports/${'x'.repeat(256)}`)).status).toBe(404);
  });

  it('a connection id over the limit in a body or query is refused too', async () => {
    const h = await setup();
    const body = { ...validExport, connectionId: 'c'.repeat(300) };
    expect(Object.keys(fieldErrors((await h.call('POST', '/exports', { body })).body))).toContain(
      'connectionId',
    );
    const reply = await h.call('GET', `/segments?segmentIds=seg-a&connectionId=${'c'.repeat(300)}`);
    expect(Object.keys(fieldErrors(reply.body))).toContain('query.connectionId');
  });
});

describe('rate budgets', () => {
  it.each([1e-300, 1e-20, 1e-9, 0.05, 0, -1, 1001])(
    'a rate of %s/s is refused, naming ratePerSecond',
    async (rate) => {
      const h = await setup();
      const created = await h.call('POST', '/connections', {
        body: validConnection({ ratePerSecond: rate }),
      });
      expectProblem(created, 400);
      expect(Object.keys(fieldErrors(created.body))).toEqual(['ratePerSecond']);
      const patched = await h.call('PATCH', '/connections/conn-1', {
        body: { version: 1, ratePerSecond: rate },
      });
      expectProblem(patched, 400);
      expect(Object.keys(fieldErrors(patched.body))).toEqual(['ratePerSecond']);
    },
  );

  it('0.1/s is the least accepted', async () => {
    const h = await setup();
    const created = await h.call('POST', '/connections', { body: validConnection({ ratePerSecond: 0.1 }) });
    expect(created.status, created.text).toBe(201);
    expect(created.body.ratePerSecond).toBe(0.1);
  });
});

describe('a run request body', () => {
  it('{"dryRun": true} in the body asks for a dry run', async () => {
    const h = await setup();
    const reply = await h.call('POST', '/exports/exp-1/runs', { body: { dryRun: true } });
    expect(reply.status, reply.text).toBe(202);
    expect((await h.run(reply.body.runId)).trigger).toBe('dry-run');
  });

  it('{"dryRun": false} in the body asks for a real run', async () => {
    const h = await setup();
    const reply = await h.call('POST', '/exports/exp-1/runs', { body: { dryRun: false } });
    expect((await h.run(reply.body.runId)).trigger).toBe('on-demand');
  });

  it('{"repair": true} asks for a repair run; on a field-mode export it is refused, naming repair', async () => {
    const h = await setup();
    const reply = await h.call('POST', '/exports/exp-1/runs', { body: { repair: true } });
    expect(reply.status, reply.text).toBe(202);
    expect((await h.run(reply.body.runId)).repair).toBe(true);

    const field = await h.addExport({ membership: 'field', listTitles: {} }, 'exp-2');
    const refused = await h.call('POST', `/exports/${field.id}/runs`, { body: { repair: true } });
    expectProblem(refused, 400);
    expect(Object.keys(fieldErrors(refused.body))).toEqual(['repair']);
  });

  it('the same answer in the body and the query is accepted; different answers are refused, naming both', async () => {
    const h = await setup();
    const same = await h.call('POST', '/exports/exp-1/runs?dryRun=true', { body: { dryRun: true } });
    expect(same.status).toBe(202);
    expect((await h.run(same.body.runId)).trigger).toBe('dry-run');
    const conflict = await h.call('POST', '/exports/exp-1/runs?dryRun=true', { body: { dryRun: false } });
    expectProblem(conflict, 400);
    expect(Object.keys(fieldErrors(conflict.body)).sort()).toEqual(['dryRun', 'query.dryRun']);
  });

  it.each([
    ['a non-boolean dryRun', { dryRun: 'yes' }, 'dryRun'],
    ['an unknown field', { force: true }, 'force'],
    ['an array', [true], ''],
  ])('%s is refused and nothing runs', async (_name, body, path) => {
    const h = await setup();
    const reply = await h.call('POST', '/exports/exp-1/runs', { body });
    expectProblem(reply, 400);
    expect(Object.keys(fieldErrors(reply.body))).toContain(path);
    expect(h.planQueue.messages).toEqual([]);
  });

  it('a body sent to a route that takes none is refused', async () => {
    const h = await setup();
    const reply = await h.call('POST', '/exports/exp-1/duplicate', { body: { name: 'Copy' } });
    expectProblem(reply, 400);
    expect((await h.state.exports.list()).map((e) => e.id)).toEqual(['exp-1']);
  });
});

describe('list titles and membership fields', () => {
  it('two segments given the same list title are refused, naming both', async () => {
    const h = await setup();
    const body = {
      ...validExport,
      segmentIds: ['seg-a', 'seg-b'],
      listTitles: { 'seg-a': 'VIP', 'seg-b': 'VIP' },
    };
    const reply = await h.call('POST', '/exports', { body });
    expectProblem(reply, 400);
    expect(Object.keys(fieldErrors(reply.body)).sort()).toEqual(['listTitles.seg-a', 'listTitles.seg-b']);
    expect(fieldErrors(reply.body)['listTitles.seg-b']).toContain('seg-a');
  });

  it('two segments whose names give the same default list title are refused too', async () => {
    const h = await setup();
    const reply = await h.call('POST', '/exports', {
      body: { ...validExport, segmentIds: ['seg-a', 'seg-c'] },
    });
    expectProblem(reply, 400);
    expect(Object.keys(fieldErrors(reply.body)).sort()).toEqual(['listTitles.seg-a', 'listTitles.seg-c']);
    const fixed = { ...validExport, segmentIds: ['seg-a', 'seg-c'], listTitles: { 'seg-c': 'Newsletter 2' } };
    expect((await h.call('POST', '/exports', { body: fixed })).status).toBe(201);
  });

  it('two segments given the same membership field (in any case) are refused in field mode', async () => {
    const h = await setup();
    const body = {
      ...validExport,
      membership: 'field',
      segmentIds: ['seg-a', 'seg-b'],
      membershipFields: { 'seg-a': 'Member', 'seg-b': 'member' },
    };
    const reply = await h.call('POST', '/exports', { body });
    expectProblem(reply, 400);
    expect(Object.keys(fieldErrors(reply.body)).sort()).toEqual([
      'membershipFields.seg-a',
      'membershipFields.seg-b',
    ]);
  });

  it('an edit that makes two titles equal is refused', async () => {
    const h = await setup();
    const view = (await h.call('GET', '/exports/exp-1')).body;
    const body = {
      ...editable(view),
      segmentIds: ['seg-a', 'seg-b'],
      listTitles: { 'seg-b': 'Newsletter' },
      version: view.version,
    };
    const reply = await h.call('PUT', '/exports/exp-1', { body });
    expectProblem(reply, 400);
    expect(Object.keys(fieldErrors(reply.body)).sort()).toEqual(['listTitles.seg-a', 'listTitles.seg-b']);
  });
});

describe('PUT /exports/{id} replaces the whole export', () => {
  it('refuses unknown fields, as POST does', async () => {
    const h = await setup();
    const view = (await h.call('GET', '/exports/exp-1')).body;
    const reply = await h.call('PUT', '/exports/exp-1', {
      body: { ...editable(view), colour: 'red', version: view.version },
    });
    expectProblem(reply, 400);
    expect(Object.keys(fieldErrors(reply.body))).toEqual(['colour']);
  });

  it('refuses a partial document instead of resetting what it omits to defaults', async () => {
    const h = await setup();
    const current = await h.state.exports.get('exp-1');
    if (current === undefined) throw new Error('no export');
    await h.state.exports.revise(
      'exp-1',
      1,
      { membership: 'field', onLeave: 'keep' },
      { by: 'tester', at: '2025-01-02T00:00:00.000Z' },
    );
    const reply = await h.call('PUT', '/exports/exp-1', {
      body: { ...validExport, name: 'Renamed', version: 2 },
    });
    expectProblem(reply, 400);
    expect(Object.keys(fieldErrors(reply.body))).toEqual(
      expect.arrayContaining(['membership', 'onLeave', 'dataMatching.fields', 'scheduled']),
    );
    expect((await h.state.exports.get('exp-1'))?.membership).toBe('field');
  });

  it('accepts the document it served back, changed', async () => {
    const h = await setup();
    const view = (await h.call('GET', '/exports/exp-1')).body;
    const reply = await h.call('PUT', '/exports/exp-1', {
      body: { ...editable(view), name: 'Renamed', version: view.version },
    });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({ name: 'Renamed', dataMatching: view.dataMatching });
  });
});

describe('names', () => {
  it.each([
    ['a bell', 'Mar\u0007keting'],
    ['a line break inside', 'Mar\nketing'],
    ['a DEL', 'Mar\u007fketing'],
    ['a C1 control', 'Mar\u0085keting'],
    ['a lone high surrogate', 'Mar\ud800keting'],
    ['a lone low surrogate', 'Mar\udc00keting'],
  ])('%s in a name is refused wherever a name is given', async (_name, name) => {
    const h = await setup();
    const paths = async (method: string, url: string, body: unknown) =>
      Object.keys(fieldErrors((await h.call(method, url, { body })).body));
    expect(await paths('POST', '/connections', validConnection({ displayName: name }))).toEqual([
      'displayName',
    ]);
    expect(await paths('PATCH', '/connections/conn-1', { version: 1, displayName: name })).toEqual([
      'displayName',
    ]);
    expect(await paths('POST', '/exports', { ...validExport, name })).toEqual(['name']);
    expect(await paths('POST', '/exports', { ...validExport, listTitles: { 'seg-a': name } })).toEqual([
      'listTitles.seg-a',
    ]);
  });

  it('emoji and other paired surrogates are fine', async () => {
    const h = await setup();
    const reply = await h.call('POST', '/exports', { body: { ...validExport, name: 'VIP 🎉 Kunden' } });
    expect(reply.status, reply.text).toBe(201);
  });
});

describe('GET /segments', () => {
  it('an unknown connection is 404 naming it', async () => {
    const h = await setup();
    const reply = await h.call('GET', '/segments?segmentIds=seg-a&connectionId=conn-nope');
    expectProblem(reply, 404);
    expect(reply.body.detail).toContain('conn-nope');
  });

  it('a segment given twice is 400 naming the repeat', async () => {
    const h = await setup();
    const reply = await h.call('GET', '/segments?segmentIds=seg-a,seg-b,seg-a');
    expectProblem(reply, 400);
    expect(Object.keys(fieldErrors(reply.body))).toEqual(['query.segmentIds.2']);
  });
});
