import type { Session } from '../session.ts';

export const Header = ({ session, onSignOut }: { session: Session | undefined; onSignOut: () => void }) => (
  <header class="site-header">
    <a class="brand" href="#/connections">
      autopilot-export
    </a>
    {session === undefined ? null : (
      <>
        <nav aria-label="Main">
          <ul>
            <li>
              <a href="#/connections">Connections</a>
            </li>
            <li>
              <a href="#/exports">Exports</a>
            </li>
          </ul>
        </nav>
        <div class="who">
          <span>
            Signed in as <strong>{session.name ?? session.id}</strong> ({session.role})
          </span>{' '}
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </>
    )}
  </header>
);
