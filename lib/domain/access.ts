/**
 * Who may do what (docs/architecture.md#roles), decided in one place. Roles come from the identity token's
 * groups: `admins` (everything), `contributors` (manage and run exports on connections shared with
 * contributors or naming them as export users; see connections only by name and type), `viewers` (read only).
 */
export type Role = 'admin' | 'contributor' | 'viewer';

export interface Caller {
  /** Stable subject id, recorded on every write. */
  id: string;
  role: Role;
  /** A display name from the token (email or user name), when it carries one; never used to decide access. */
  name?: string;
}

const GROUP_ROLES: ReadonlyArray<[group: string, role: Role]> = [
  ['admins', 'admin'],
  ['contributors', 'contributor'],
  ['viewers', 'viewer'],
];

/**
 * Bounds on a groups claim, checked before anything parses it. A real claim is far below them:
 * Cognito allows 128-character names and API Gateway 10 KiB of headers; Entra ID sends at most
 * 200 groups. A claim beyond them yields no group at all: truncating could change the answer.
 */
export const GROUP_CLAIM_LIMITS = { chars: 16_384, groups: 256, nameChars: 256 } as const;

/**
 * How the claim reached the function, which decides what its text can mean:
 * - `json`: the token's own payload, JSON types intact;
 * - `flattened-cognito`: API Gateway HTTP API's rendering of a Cognito user pool's `cognito:groups`
 *   array (`[admins contributors]`). Cognito group names cannot contain whitespace
 *   (`[\p{L}\p{M}\p{S}\p{N}\p{P}]+`), so splitting on spaces is exact;
 * - `flattened`: the same rendering of any other issuer's claim. Its names may contain spaces, so
 *   `[Partner admins]` may be one group or two: it is ambiguous and yields no group.
 */
export type ClaimForm = 'json' | 'flattened-cognito' | 'flattened';

/** Whole names only: a non-string or over-long entry is dropped (it cannot name a role anyway). */
const names = (values: readonly unknown[]): string[] => {
  if (values.length > GROUP_CLAIM_LIMITS.groups) return [];
  return values.filter(
    (v): v is string => typeof v === 'string' && v !== '' && v.length <= GROUP_CLAIM_LIMITS.nameChars,
  );
};

/** The array a string holds as JSON, or undefined when it holds anything else. */
const jsonArray = (text: string): unknown[] | undefined => {
  if (!text.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
};

/** API Gateway's `[a b c]`: the parts only when they are certainly whole names. */
const bracketForm = (text: string, form: ClaimForm): string[] => {
  const inner = text.slice(1, -1);
  if (inner === '') return [];
  const parts = inner.split(' ');
  // One part is one whole name. (A plain string claim that is itself bracketed reads the same; only
  // the token tells them apart, and API Gateway passes it: see functions/shared/http/http.ts.)
  if (parts.length === 1) return names(parts);
  // Another issuer's names may hold spaces: any part may be a fragment of a longer name.
  if (form !== 'flattened-cognito' || parts.includes('')) return [];
  return names(parts);
};

/**
 * Groups from a claim, never split out of a name: an array is its entries; a string holding a JSON
 * array is that array; API Gateway's flattened `[a b c]` is split only where names cannot contain
 * spaces (see ClaimForm); any other string is one group name.
 */
export const parseGroups = (claim: unknown, form: ClaimForm): string[] => {
  if (Array.isArray(claim)) return names(claim);
  if (typeof claim !== 'string' || claim.length > GROUP_CLAIM_LIMITS.chars) return [];
  // Cognito always sends its groups as an array, so its flattened text is never JSON: a group
  // named `"admins"` renders as `["admins"]` and must stay that one odd name.
  const asJson = form === 'flattened-cognito' ? undefined : jsonArray(claim);
  if (asJson !== undefined) return names(asJson);
  if (form !== 'json' && claim.startsWith('[') && claim.endsWith(']')) return bracketForm(claim, form);
  return names([claim]);
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
  | 'run:approve'
  | 'run:read'
  | 'segment:read'
  | 'self:read'
  | 'audit:read';

export type Sharing = 'admins' | 'admins+contributors';

/**
 * What of a connection decides who may use it: its sharing and the users it names (matched by
 * subject id only: labels, names and emails can be reassigned to someone else).
 */
export interface ConnectionAccess {
  sharing: Sharing;
  exportUsers: ReadonlyArray<{ id: string }>;
}

/** Thrown when the caller's role does not allow the action; the message says what would. */
export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
}

const READ: ReadonlySet<Action> = new Set([
  'connection:read',
  'export:read',
  'run:read',
  'segment:read',
  'self:read',
]);
const ON_CONNECTION: ReadonlySet<Action> = new Set(['export:write', 'run:start', 'run:cancel']);

/**
 * Whether `caller` may write and run exports on `connection`: admins always; a contributor when it is
 * shared with contributors or names them as an export user; a viewer never (naming one grants nothing).
 */
export const usableBy = (caller: Caller, connection: ConnectionAccess): boolean => {
  if (caller.role === 'admin') return true;
  if (caller.role === 'viewer') return false;
  return (
    connection.sharing === 'admins+contributors' || connection.exportUsers.some((u) => u.id === caller.id)
  );
};

/**
 * Whether `caller` may perform `action`. Export writes and runs also depend on the connections
 * involved: a contributor needs at least one, and every one usable by them (`usableBy`). An export
 * with none (detached, or its connection removed) is the admins' alone: there is no sharing to follow.
 */
export const can = (
  caller: Caller,
  action: Action,
  connections: ReadonlyArray<ConnectionAccess> = [],
): boolean => {
  if (caller.role === 'admin') return true;
  if (READ.has(action)) return true;
  if (caller.role === 'viewer') return false;
  if (ON_CONNECTION.has(action)) {
    return connections.length > 0 && connections.every((c) => usableBy(caller, c));
  }
  return false;
};

/**
 * The role half of `can`, which the router checks for every route before it reads the request:
 * whether the caller's role may perform `action` on anything at all. The use case then decides on
 * the resource with `authorize`.
 */
export const authorizeRole = (caller: Caller, action: Action): void => {
  if (caller.role === 'admin' || READ.has(action)) return;
  // Who changed what, when: it names people and their edits, so it is the admins' alone.
  if (action === 'audit:read') throw new ForbiddenError('Only admins read the audit trail.');
  // Letting a mass removal through (or not) is a decision about the whole list, not one export's use.
  if (action === 'run:approve') throw new ForbiddenError('Only admins approve or reject held removals.');
  if (caller.role === 'viewer') throw new ForbiddenError('Viewers have read-only access.');
  if (!ON_CONNECTION.has(action)) throw new ForbiddenError('Only admins manage connections.');
};

export const authorize = (
  caller: Caller,
  action: Action,
  connections: ReadonlyArray<ConnectionAccess> = [],
): void => {
  authorizeRole(caller, action);
  if (can(caller, action, connections)) return;
  if (connections.length === 0) {
    throw new ForbiddenError(
      'This export has no connection; only admins may change or run it until one is attached.',
    );
  }
  throw new ForbiddenError(
    'This connection is not shared with contributors and does not name you as an export user; ask an admin.',
  );
};

const ON_CONNECTION_TEXT =
  'admins; contributors on connections shared with contributors or naming them as export users';

/** Who may perform an action, in the words of the API document. */
export const ACCESS_TEXT: Record<Action | 'public', string> = {
  public: 'public',
  'connection:manage': 'admins',
  'connection:read': 'any role (admins see details; others see name and type)',
  'export:read': 'any role',
  'export:write': ON_CONNECTION_TEXT,
  'run:start': ON_CONNECTION_TEXT,
  'run:cancel': ON_CONNECTION_TEXT,
  'run:approve': 'admins',
  'run:read': 'any role',
  'segment:read': 'any role',
  'self:read': 'any role',
  'audit:read': 'admins',
};

/** Full connection details are for admins; everyone else sees the display name and type only. */
export const seesConnectionDetails = (caller: Caller): boolean => caller.role === 'admin';
