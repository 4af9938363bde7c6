/** A role as the API names it; the console hides controls by role, the API enforces it. */
export type Role = 'admin' | 'contributor' | 'viewer';

export interface Session {
  token: string;
  id: string;
  role: Role;
  name?: string;
}

/**
 * The local stand-in's users: `npm run serve` accepts these names as bearer tokens. In the cloud a
 * real identity provider signs users in instead.
 */
export const DEV_USERS: readonly { token: string; role: Role; label: string }[] = [
  { token: 'dev-admin', role: 'admin', label: 'Admin' },
  { token: 'dev-contributor', role: 'contributor', label: 'Contributor' },
  { token: 'dev-contributor-2', role: 'contributor', label: 'Contributor 2' },
  { token: 'dev-viewer', role: 'viewer', label: 'Viewer' },
];
