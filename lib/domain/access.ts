/**
 * Who may do what (DESIGN.md §1 roles), decided in one place. Roles come from the identity token's
 * groups: `admins` (everything), `contributors` (manage and run exports on connections shared with
 * contributors; see connections only by name and type), `viewers` (read only).
 */
export type Role = 'admin' | 'contributor' | 'viewer';

export interface Caller {
  /** Stable subject id, recorded on every write. */
  id: string;
  role: Role;
}

const GROUP_ROLES: ReadonlyArray<[group: string, role: Role]> = [
  ['admins', 'admin'],
  ['contributors', 'contributor'],
  ['viewers', 'viewer'],
];

/**
 * Groups as identity providers send them: a JSON array, or (API Gateway HTTP APIs flatten array
 * claims) a string like `[admins contributors]` or `admins,viewers`.
 */
export const parseGroups = (claim: unknown): string[] => {
  if (Array.isArray(claim)) return claim.map(String);
  if (typeof claim !== 'string') return [];
  return claim
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .map((g) => g.replace(/^"|"$/g, ''))
    .filter((g) => g !== '');
};

/** The caller's strongest role, or undefined when the token carries none of our groups. */
export const roleFromGroups = (groups: readonly string[]): Role | undefined =>
  GROUP_ROLES.find(([group]) => groups.includes(group))?.[1];

export type Action =
  | 'connection:manage'
  | 'connection:read'
  | 'export:read'
  | 'export:write'
  | 'run:start'
  | 'run:cancel'
  | 'run:read'
  | 'segment:read';

export type Sharing = 'admins' | 'admins+contributors';

/** Thrown when the caller's role does not allow the action; the message says what would. */
export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
}

const READ: ReadonlySet<Action> = new Set(['connection:read', 'export:read', 'run:read', 'segment:read']);
const ON_CONNECTION: ReadonlySet<Action> = new Set(['export:write', 'run:start', 'run:cancel']);

/**
 * Whether `caller` may perform `action`. Export writes and runs also depend on the connections
 * involved: a contributor needs every one of them shared with contributors (a detached export has
 * none, so only its target connection, if any, counts).
 */
export const can = (
  caller: Caller,
  action: Action,
  connections: ReadonlyArray<{ sharing: Sharing }> = [],
): boolean => {
  if (caller.role === 'admin') return true;
  if (READ.has(action)) return true;
  if (caller.role === 'viewer') return false;
  if (ON_CONNECTION.has(action)) return connections.every((c) => c.sharing === 'admins+contributors');
  return false;
};

export const authorize = (
  caller: Caller,
  action: Action,
  connections: ReadonlyArray<{ sharing: Sharing }> = [],
): void => {
  if (can(caller, action, connections)) return;
  if (caller.role === 'viewer') throw new ForbiddenError('Viewers have read-only access.');
  if (action === 'connection:manage') throw new ForbiddenError('Only admins manage connections.');
  throw new ForbiddenError('This connection is not shared with contributors; ask an admin.');
};

/** Full connection details are for admins; everyone else sees the display name and type only. */
export const seesConnectionDetails = (caller: Caller): boolean => caller.role === 'admin';
