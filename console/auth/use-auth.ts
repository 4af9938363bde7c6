import { useEffect, useRef, useState } from 'preact/hooks';
import { type AuthConfig, loadAuthConfig } from './config.ts';
import { type Discovery, discover } from './discovery.ts';
import { describeFailure, type SignInError } from './errors.ts';
import { beginSignIn, completeSignIn, isCallback, logoutUrl } from './flow.ts';

export interface Auth {
  /** Undefined while `/console/config.json` loads. */
  config: AuthConfig | undefined;
  /** A sign-in step that failed, in words. */
  error: string | undefined;
  busy: boolean;
  /** OIDC: goes to the issuer's sign-in page. */
  signIn: () => Promise<void>;
  /** OIDC: where to go once the tokens are forgotten (the issuer's sign-out), if anywhere. */
  signOutUrl: () => string | undefined;
  /** Says why the user is back on the sign-in page (e.g. the token expired); undefined clears it. */
  fail: (error: SignInError | undefined) => void;
}

/**
 * Loads how this console signs in and, on return from the issuer, finishes the code flow and hands
 * the access token to `onToken`. Tokens go nowhere but that callback: never into storage.
 */
export const useAuth = (onToken: (accessToken: string) => void): Auth => {
  const [config, setConfig] = useState<AuthConfig | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const discovery = useRef<Discovery | undefined>(undefined);

  useEffect(() => {
    void (async () => {
      let loaded: AuthConfig;
      try {
        loaded = await loadAuthConfig();
      } catch (e) {
        setError(describeFailure(e));
        return;
      }
      setConfig(loaded);
      if (loaded.kind !== 'oidc' || !isCallback(window.location.search)) return;
      const search = window.location.search;
      // The code and state are single-use: off the address bar (and out of a reload) at once.
      window.history.replaceState(null, '', `${window.location.pathname}#/sign-in`);
      setBusy(true);
      try {
        discovery.current = await discover(loaded.issuer);
        const tokens = await completeSignIn(loaded, discovery.current, window.sessionStorage, search);
        onToken(tokens.accessToken);
      } catch (e) {
        setError(describeFailure(e));
      } finally {
        setBusy(false);
      }
    })();
  }, []);

  const signIn = async () => {
    if (config?.kind !== 'oidc') return;
    setBusy(true);
    setError(undefined);
    try {
      discovery.current = await discover(config.issuer);
      window.location.assign(await beginSignIn(config, discovery.current, window.sessionStorage));
    } catch (e) {
      setError(describeFailure(e));
      setBusy(false);
    }
  };

  const signOutUrl = () =>
    config?.kind === 'oidc' && discovery.current !== undefined
      ? logoutUrl(config, discovery.current)
      : undefined;

  return { config, error, busy, signIn, signOutUrl, fail: (e) => setError(e?.message) };
};
