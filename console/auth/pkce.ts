/** base64url without padding (RFC 7636 appendix A), for verifiers, challenges, state and nonce. */
export const base64url = (bytes: Uint8Array): string => {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

/** 32 random bytes: a 43-character value, the shortest verifier RFC 7636 allows, with 256 bits. */
export const randomValue = (random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)) =>
  base64url(random(new Uint8Array(32)));

const VERIFIER = /^[A-Za-z0-9\-._~]+$/;

/** The S256 code challenge for a verifier: base64url(SHA-256(ASCII(verifier))). */
export const s256Challenge = async (verifier: string): Promise<string> => {
  if (verifier.length < 43 || verifier.length > 128 || !VERIFIER.test(verifier)) {
    throw new Error('code_verifier must be 43-128 characters of A-Z, a-z, 0-9, "-", ".", "_" or "~"');
  }
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
};
