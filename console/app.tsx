import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { call, createApi } from './api/client.ts';
import type { Problem } from './api/problems.ts';
import { SignInError } from './auth/errors.ts';
import { useAuth } from './auth/use-auth.ts';
import { Header } from './components/header.tsx';
import { ConnectionDetailPage } from './pages/connection-detail.tsx';
import { ConnectionNewPage } from './pages/connection-new.tsx';
import { ConnectionsListPage } from './pages/connections-list.tsx';
import { ExportDetailPage } from './pages/export-detail.tsx';
import { ExportEditPage } from './pages/export-edit.tsx';
import { ExportListPage } from './pages/export-list.tsx';
import { RunDetailPage } from './pages/run-detail.tsx';
import { RunHistoryPage } from './pages/run-history.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { navigate, type Route, useRoute } from './router.ts';
import type { Session } from './session.ts';

export const App = () => {
  const route = useRoute();
  // In memory only: a reload or a new tab signs out, and no script can read a stored token.
  const [session, setSession] = useState<Session | undefined>();
  const [flash, setFlash] = useState<string | undefined>();
  const main = useRef<HTMLElement>(null);

  useEffect(() => {
    document.title = `${titleOf(route)} · autopilot-export`;
    // Moves focus to the new page's heading so keyboard and screen-reader users start there.
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [route]);

  const [signingIn, setSigningIn] = useState<string | undefined>();
  const [signInProblem, setSignInProblem] = useState<Problem | undefined>();
  // Who the token stands for comes from the API (GET /me), never from what the console assumes.
  const signIn = async (token: string) => {
    setSigningIn(token);
    setSignInProblem(undefined);
    const me = await call(createApi(token).GET('/me'));
    setSigningIn(undefined);
    if (!me.ok) {
      setSignInProblem(me.problem);
      return;
    }
    setSession({ token, ...me.data });
    setFlash(undefined);
    auth.fail(undefined);
    navigate({ page: 'connections' });
  };
  const auth = useAuth((token) => void signIn(token));
  const signOut = () => {
    // The tokens live only in `session`: forgetting it is the console's half of signing out.
    setSession(undefined);
    setFlash(undefined);
    const issuerSignOut = auth.signOutUrl();
    if (issuerSignOut === undefined) navigate({ page: 'sign-in' });
    else window.location.assign(issuerSignOut);
  };
  const api = useMemo(() => {
    if (session === undefined) return undefined;
    const client = createApi(session.token);
    // No silent renewal: an expired or revoked token sends the user to sign in again, told why.
    client.use({
      onResponse: ({ response }) => {
        if (response.status !== 401) return;
        setSession(undefined);
        auth.fail(new SignInError('expired'));
        navigate({ page: 'sign-in' });
      },
    });
    return client;
  }, [session]);

  return (
    <>
      <Header session={session} onSignOut={signOut} />
      <main id="main" ref={main} tabIndex={-1}>
        {session === undefined || api === undefined || route.page === 'sign-in' ? (
          <SignInPage
            auth={auth}
            onSignIn={(t) => void signIn(t)}
            busyToken={signingIn}
            problem={signInProblem}
          />
        ) : route.page === 'connections' ? (
          <ConnectionsListPage api={api} session={session} flash={flash} />
        ) : route.page === 'connection-new' ? (
          <ConnectionNewPage
            api={api}
            session={session}
            onCreated={(c) => setFlash(`Added "${c.displayName}".`)}
          />
        ) : route.page === 'connection' ? (
          <ConnectionDetailPage api={api} session={session} id={route.id} onRemoved={setFlash} />
        ) : route.page === 'run' ? (
          <RunDetailPage key={route.id} api={api} session={session} id={route.id} />
        ) : route.page === 'export-runs' ? (
          <RunHistoryPage key={route.id} api={api} id={route.id} />
        ) : route.page === 'exports' ? (
          <ExportListPage api={api} session={session} />
        ) : route.page === 'export-new' ? (
          <ExportEditPage key="new" api={api} />
        ) : route.page === 'export-edit' ? (
          <ExportEditPage key={`edit-${route.id}`} api={api} id={route.id} />
        ) : route.page === 'export' ? (
          <ExportDetailPage key={route.id} api={api} session={session} id={route.id} />
        ) : (
          <NotFound />
        )}
      </main>
    </>
  );
};

const titleOf = (route: Route): string =>
  ({
    'sign-in': 'Sign in',
    connections: 'Connections',
    'connection-new': 'Add connection',
    connection: 'Connection',
    run: 'Run',
    'export-runs': 'Run history',
    exports: 'Exports',
    'export-new': 'New export',
    export: 'Export',
    'export-edit': 'Edit export',
    'not-found': 'Not found',
  })[route.page];

const NotFound = () => (
  <section aria-labelledby="page-title">
    <h1 id="page-title" tabIndex={-1}>
      Page not found
    </h1>
    <p>
      <a href="#/connections">Go to connections</a>
    </p>
  </section>
);
