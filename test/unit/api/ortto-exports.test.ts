import { describe, expect, it } from 'vitest';
import { ApiHarness, editable, type Token } from '#test/support/api-harness.ts';

const fieldErrors = (body: { errors?: Array<{ path: string; reason: string }> }) =>
  Object.fromEntries((body.errors ?? []).map((e) => [e.path, e.reason]));

const ORTTO_ONLY_TAGS = 'Ortto connections keep membership as tags: use membership "tag"';
const AUTOPILOT_NO_TAGS =
  'Autopilot connections keep membership as lists or fields: use membership "list" or "field"';

/** `conn-a` (Autopilot) and `conn-o` (Ortto, eu), both shared with contributors; three segments. */
const world = async () => {
  const h = new ApiHarness();
  h.segments.set('seg-a', 'Newsletter', [{ id: '1', attributes: { email: 'a@example.com' } }]);
  h.segments.set('seg-b', 'VIP', [{ id: '2', attributes: { email: 'b@example.com' } }]);
  h.segments.set('seg-c', 'vip', [{ id: '3', attributes: { email: 'c@example.com' } }]);
  await h.addConnection({ id: 'conn-a', sharing: 'admins+contributors' });
  await h.addConnection({ id: 'conn-o', type: 'ortto', region: 'eu', sharing: 'admins+contributors' });
  return h;
};

const exportBody = (connectionId: string | null, change: Record<string, unknown> = {}) => ({
  name: 'Tagged',
  connectionId,
  segmentIds: ['seg-a'],
  dataMatching: { email: 'email' },
  ...change,
});

const save = (h: ApiHarness, body: unknown, token: Token = 'dev-contributor') =>
  h.call('POST', '/exports', { token, body });

const putBody = async (h: ApiHarness, id: string, change: Record<string, unknown>) => {
  const current = (await h.call('GET', `/exports/${id}`)).body;
  return { ...editable(current), ...change, version: current.version };
};

describe('an export on an Ortto connection keeps membership as tags', () => {
  it('a second export writing the same tag on the connection is refused, in the words of tags', async () => {
    const h = await world();
    const tag = { membership: 'tag', membershipTags: { 'seg-a': 'Shared' } };
    expect((await save(h, exportBody('conn-o', tag))).status).toBe(201);
    const second = await save(h, exportBody('conn-o', { ...tag, name: 'Second' }));
    expect(second.status).toBe(409);
    expect(second.body.detail).toMatch(/^tag "Shared" belongs to export "Tagged"/);
    expect(second.body.detail).toMatch(
      /Each tag on a connection belongs to one export; give these segments their own tag names\.$/,
    );
  });

  it('a tag-mode export saves, with its per-segment tags, and names its connection’s type and region', async () => {
    const h = await world();
    const reply = await save(
      h,
      exportBody('conn-o', {
        segmentIds: ['seg-a', 'seg-b'],
        membership: 'tag',
        membershipTags: { 'seg-b': 'VIP customers' },
      }),
    );
    expect(reply.status, reply.text).toBe(201);
    expect(reply.body).toMatchObject({
      membership: 'tag',
      membershipTags: { 'seg-b': 'VIP customers' },
      connection: { id: 'conn-o', type: 'ortto', region: 'eu' },
    });
  });

  it.each(['list', 'field'])(
    '%s mode on an Ortto connection is refused, naming `membership`',
    async (mode) => {
      const h = await world();
      const reply = await save(h, exportBody('conn-o', { membership: mode }));
      expect(reply.status).toBe(400);
      expect(fieldErrors(reply.body)).toEqual({ membership: ORTTO_ONLY_TAGS });
      expect(await h.state.exports.list()).toEqual([]);
    },
  );

  it('left out, membership is `list`, so a save on Ortto must say `tag`', async () => {
    const h = await world();
    const reply = await save(h, exportBody('conn-o'));
    expect(fieldErrors(reply.body)).toEqual({ membership: ORTTO_ONLY_TAGS });
  });

  it('tag mode on an Autopilot connection is refused, naming the modes Autopilot has', async () => {
    const h = await world();
    const reply = await save(h, exportBody('conn-a', { membership: 'tag' }));
    expect(reply.status).toBe(400);
    expect(fieldErrors(reply.body)).toEqual({ membership: AUTOPILOT_NO_TAGS });
  });

  it('the mode is checked only for a caller allowed to write on the connection', async () => {
    const h = await world();
    const reply = await save(h, exportBody('conn-o', { membership: 'list' }), 'dev-viewer');
    expect(reply.status).toBe(403);
  });

  it('an export without a connection keeps any mode, and attaching it checks the mode', async () => {
    const h = await world();
    // Only admins change an export without a connection.
    const saved = await save(h, exportBody(null, { membership: 'tag' }), 'dev-admin');
    expect(saved.status, saved.text).toBe(201);
    const id = saved.body.id;
    const toAutopilot = await h.call('PUT', `/exports/${id}`, {
      body: await putBody(h, id, { connectionId: 'conn-a' }),
    });
    expect(toAutopilot.status).toBe(400);
    expect(fieldErrors(toAutopilot.body)).toEqual({ membership: AUTOPILOT_NO_TAGS });
    const toOrtto = await h.call('PUT', `/exports/${id}`, {
      body: await putBody(h, id, { connectionId: 'conn-o' }),
    });
    expect(toOrtto.status, toOrtto.text).toBe(200);
    expect(toOrtto.body.connection).toMatchObject({ type: 'ortto', region: 'eu' });
  });

  it('moving an export between destinations needs the mode of the new one', async () => {
    const h = await world();
    const id = (await save(h, exportBody('conn-a', { membership: 'field' }))).body.id;
    const kept = await h.call('PUT', `/exports/${id}`, {
      body: await putBody(h, id, { connectionId: 'conn-o' }),
    });
    expect(fieldErrors(kept.body)).toEqual({ membership: ORTTO_ONLY_TAGS });
    const moved = await h.call('PUT', `/exports/${id}`, {
      body: await putBody(h, id, { connectionId: 'conn-o', membership: 'tag' }),
    });
    expect(moved.status, moved.text).toBe(200);
  });

  it('a duplicate of a tag-mode export is a tag-mode export on the same Ortto connection', async () => {
    const h = await world();
    const id = (await save(h, exportBody('conn-o', { membership: 'tag' }))).body.id;
    const copy = await h.call('POST', `/exports/${id}/duplicate`, { token: 'dev-contributor' });
    expect(copy.status, copy.text).toBe(201);
    expect(copy.body).toMatchObject({ membership: 'tag', connection: { id: 'conn-o', type: 'ortto' } });
  });

  it('a stored export whose mode its connection lacks is not duplicated', async () => {
    const h = await world();
    await h.addExport({ connectionId: 'conn-o', membership: 'list' }, 'exp-stray');
    const copy = await h.call('POST', '/exports/exp-stray/duplicate');
    expect(copy.status).toBe(400);
    expect(fieldErrors(copy.body)).toEqual({ membership: ORTTO_ONLY_TAGS });
    expect((await h.state.exports.list()).map((e) => e.id)).toEqual(['exp-stray']);
  });
});

describe('membership tags, like membership fields', () => {
  it('two segments with one tag are refused, whatever its case, naming the segments', async () => {
    const h = await world();
    const reply = await save(
      h,
      exportBody('conn-o', {
        segmentIds: ['seg-a', 'seg-b'],
        membership: 'tag',
        membershipTags: { 'seg-a': 'Members', 'seg-b': 'MEMBERS' },
      }),
    );
    expect(reply.status).toBe(400);
    expect(fieldErrors(reply.body)).toEqual({
      'membershipTags.seg-a':
        'segment "seg-b" has the same membership tag "Members"; give each segment its own',
      'membershipTags.seg-b':
        'segment "seg-a" has the same membership tag "MEMBERS"; give each segment its own',
    });
  });

  it('two segments whose names differ only in case get clashing default tags, refused', async () => {
    const h = await world();
    const reply = await save(h, exportBody('conn-o', { segmentIds: ['seg-b', 'seg-c'], membership: 'tag' }));
    expect(reply.status).toBe(400);
    expect(Object.keys(fieldErrors(reply.body)).sort()).toEqual([
      'membershipTags.seg-b',
      'membershipTags.seg-c',
    ]);
    const renamed = await save(
      h,
      exportBody('conn-o', {
        segmentIds: ['seg-b', 'seg-c'],
        membership: 'tag',
        membershipTags: { 'seg-c': 'Segment vip (small)' },
      }),
    );
    expect(renamed.status, renamed.text).toBe(201);
  });

  it.each([
    ['a line break', 'VIP\ncustomers', 'must not contain control characters (tabs, line breaks, …)'],
    ['a blank tag', '   ', 'must not be empty'],
    ['a tag over 255 characters', 'x'.repeat(256), 'must be at most 255 characters'],
  ])('a tag with %s is refused where it stands', async (_name, tag, reason) => {
    const h = await world();
    const reply = await save(
      h,
      exportBody('conn-o', { membership: 'tag', membershipTags: { 'seg-a': tag } }),
    );
    expect(reply.status).toBe(400);
    expect(fieldErrors(reply.body)['membershipTags.seg-a']).toBe(reason);
  });

  it('a tag for a segment the export does not select is refused', async () => {
    const h = await world();
    const reply = await save(
      h,
      exportBody('conn-o', { membership: 'tag', membershipTags: { 'seg-b': 'VIP' } }),
    );
    expect(reply.status).toBe(400);
    expect(fieldErrors(reply.body)).toHaveProperty(['membershipTags.seg-b']);
  });
});

describe('estimates for a selection follow the connection’s destination', () => {
  it('an Ortto connection is priced in tag mode only; an Autopilot one in list and field mode', async () => {
    const h = await world();
    const ortto = await h.call('GET', '/segments?segmentIds=seg-a,seg-b&connectionId=conn-o');
    expect(ortto.status, ortto.text).toBe(200);
    expect(Object.keys(ortto.body.selection.estimates)).toEqual(['tag']);
    expect(ortto.body.selection.estimates.tag).toMatchObject({
      requests: expect.any(Number),
      upperBound: true,
    });
    const autopilot = await h.call('GET', '/segments?segmentIds=seg-a,seg-b&connectionId=conn-a');
    expect(Object.keys(autopilot.body.selection.estimates).sort()).toEqual(['field', 'list']);
  });
});
