/** Why a sign-in did not happen, each told to the user in words (never a bare code). */
export type SignInFailure =
  | 'config'
  | 'issuer-unreachable'
  | 'discovery'
  | 'denied'
  | 'provider-error'
  | 'state-mismatch'
  | 'token-exchange'
  | 'expired';

const MESSAGES: Record<SignInFailure, string> = {
  config: 'The console could not load its sign-in settings (/console/config.json).',
  'issuer-unreachable':
    'The console could not reach the identity provider; check your connection and try again.',
  discovery: 'The identity provider described itself in a way the console cannot use.',
  denied: 'Sign-in was cancelled or refused by the identity provider, so you are not signed in.',
  'provider-error': 'The identity provider could not sign you in.',
  'state-mismatch':
    'The sign-in answer did not match a sign-in started in this tab (state mismatch), so it was refused. Start again.',
  'token-exchange':
    'The identity provider did not exchange the sign-in code for tokens (token exchange failed). Start again.',
  expired: 'Your sign-in has ended. Sign in again.',
};

/** A failed step of the sign-in; `reason` adds what went wrong for whoever debugs it. */
export class SignInError extends Error {
  readonly failure: SignInFailure;
  readonly reason: string | undefined;
  constructor(failure: SignInFailure, reason?: string) {
    super(reason === undefined ? MESSAGES[failure] : `${MESSAGES[failure]} (${reason})`);
    this.name = 'SignInError';
    this.failure = failure;
    this.reason = reason;
  }
}

/** The words for a failure; a detail only when it helps and carries no secret. */
export const describeFailure = (error: unknown): string =>
  error instanceof SignInError ? error.message : MESSAGES['issuer-unreachable'];
