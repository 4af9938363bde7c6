import { describe, expect, it } from 'vitest';
import { authorize, type Caller, can, usableBy } from '#lib/domain/access.ts';

const admin: Caller = { id: 'u-admin', role: 'admin' };
const ann: Caller = { id: 'u-ann', role: 'contributor' };
const bob: Caller = { id: 'u-bob', role: 'contributor' };
const vic: Caller = { id: 'u-vic', role: 'viewer' };

const adminsOnly = (...ids: string[]) => ({
  sharing: 'admins' as const,
  exportUsers: ids.map((id) => ({ id })),
});
const shared = { sharing: 'admins+contributors' as const, exportUsers: [] };

describe('export users', () => {
  it('a contributor named as export user may write and run on an admins-only connection; another may not', () => {
    const c = adminsOnly('u-ann');
    for (const action of ['export:write', 'run:start', 'run:cancel'] as const) {
      expect(can(ann, action, [c])).toBe(true);
      expect(can(bob, action, [c])).toBe(false);
    }
    expect(() => authorize(ann, 'export:write', [c])).not.toThrow();
    expect(() => authorize(bob, 'export:write', [c])).toThrow(/export user/);
  });

  it('a viewer named as export user stays read-only', () => {
    const c = adminsOnly('u-vic');
    expect(can(vic, 'export:write', [c])).toBe(false);
    expect(can(vic, 'run:start', [c])).toBe(false);
    expect(() => authorize(vic, 'run:start', [c])).toThrow('Viewers have read-only access.');
  });

  it('matches the caller by id only, never by label', () => {
    const c = { sharing: 'admins' as const, exportUsers: [{ id: 'u-someone-else', label: 'u-ann' }] };
    expect(can(ann, 'export:write', [c])).toBe(false);
  });

  it('a contributor needs every connection involved to be usable by them', () => {
    expect(can(ann, 'export:write', [adminsOnly('u-ann'), shared])).toBe(true);
    expect(can(ann, 'export:write', [adminsOnly('u-ann'), adminsOnly('u-bob')])).toBe(false);
  });

  it('naming a contributor never lets them manage connections', () => {
    expect(can(ann, 'connection:manage', [adminsOnly('u-ann')])).toBe(false);
  });

  it('tells each role whether it may use a connection', () => {
    const c = adminsOnly('u-ann', 'u-vic');
    expect([admin, ann, bob, vic].map((caller) => usableBy(caller, c))).toEqual([true, true, false, false]);
    expect([admin, ann, bob, vic].map((caller) => usableBy(caller, shared))).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });
});
