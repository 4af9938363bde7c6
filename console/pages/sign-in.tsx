import type { Problem } from '../api/problems.ts';
import type { Auth } from '../auth/use-auth.ts';
import { ProblemAlert } from '../components/form.tsx';
import { DEV_USERS, type Role } from '../session.ts';

const ROLE_DESCRIPTION: Record<Role, string> = {
  admin: 'manages connections and exports',
  contributor: 'edits and runs exports on connections shared with contributors or naming them',
  viewer: 'reads everything, changes nothing',
};

/**
 * Sign in: with the organisation's identity provider (OIDC) in the cloud, or, locally, as one of
 * the dev users that `npm run serve` accepts as bearer tokens.
 */
export const SignInPage = ({
  auth,
  onSignIn,
  busyToken,
  problem,
}: {
  auth: Auth;
  onSignIn: (token: string) => void;
  busyToken: string | undefined;
  problem: Problem | undefined;
}) => (
  <section aria-labelledby="page-title">
    <h1 id="page-title" tabIndex={-1}>
      Sign in
    </h1>
    {auth.error === undefined ? null : (
      <div class="alert" role="alert">
        <p>{auth.error}</p>
      </div>
    )}
    <ProblemAlert problem={problem} />
    {auth.config === undefined ? (
      auth.error === undefined ? (
        <p>Loading…</p>
      ) : null
    ) : auth.config.kind === 'oidc' ? (
      <p>
        <button
          type="button"
          disabled={auth.busy || busyToken !== undefined}
          onClick={() => void auth.signIn()}
        >
          {auth.busy || busyToken !== undefined ? 'Signing in…' : 'Sign in'}
        </button>{' '}
        with your organisation's account.
      </p>
    ) : (
      <DevUsers onSignIn={onSignIn} busyToken={busyToken} />
    )}
  </section>
);

const DevUsers = ({
  onSignIn,
  busyToken,
}: {
  onSignIn: (token: string) => void;
  busyToken: string | undefined;
}) => (
  <>
    <p class="notice">
      This is a local stand-in for the real sign-in: choose a dev user to act as. In the cloud, your
      organisation's sign-in page replaces this one.
    </p>
    <ul class="user-list">
      {DEV_USERS.map((user) => (
        <li key={user.token}>
          <button type="button" disabled={busyToken !== undefined} onClick={() => onSignIn(user.token)}>
            {busyToken === user.token ? 'Signing in…' : `Sign in as ${user.label}`}
          </button>
          <span>
            {' '}
            role <strong>{user.role}</strong>: {ROLE_DESCRIPTION[user.role]}
          </span>
        </li>
      ))}
    </ul>
  </>
);
