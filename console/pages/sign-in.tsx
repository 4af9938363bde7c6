import type { Problem } from '../api/problems.ts';
import { ProblemAlert } from '../components/form.tsx';
import { DEV_USERS, type Role } from '../session.ts';

const ROLE_DESCRIPTION: Record<Role, string> = {
  admin: 'manages connections and exports',
  contributor: 'edits and runs exports on connections shared with contributors',
  viewer: 'reads everything, changes nothing',
};

/** Local sign-in: picks one of the dev users that `npm run serve` accepts as bearer tokens. */
export const SignInPage = ({
  onSignIn,
  busyToken,
  problem,
}: {
  onSignIn: (token: string) => void;
  busyToken: string | undefined;
  problem: Problem | undefined;
}) => (
  <section aria-labelledby="page-title">
    <h1 id="page-title" tabIndex={-1}>
      Sign in
    </h1>
    <p class="notice">
      This is a local stand-in for the real sign-in: choose a dev user to act as. In the cloud, your
      organisation's sign-in page replaces this one.
    </p>
    <ProblemAlert problem={problem} />
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
  </section>
);
