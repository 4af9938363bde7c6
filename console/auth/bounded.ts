import { SignInError, type SignInFailure } from './errors.ts';

/** Discovery documents and token responses are a few KB; anything far larger is refused unread. */
export const MAX_AUTH_RESPONSE_BYTES = 64 * 1024;

/**
 * A response body parsed as a JSON object, read up to `maxBytes` and no further, so a hostile or
 * broken endpoint cannot make the console buffer an unbounded answer.
 */
export const readJsonObject = async (
  response: Response,
  failure: SignInFailure,
  maxBytes = MAX_AUTH_RESPONSE_BYTES,
): Promise<Record<string, unknown>> => {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw new SignInError(failure, `answer larger than ${maxBytes} bytes`);
  const reader = response.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (reader !== undefined) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw new SignInError(failure, `answer larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new SignInError(failure, 'answer is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SignInError(failure, 'answer is not a JSON object');
  }
  return parsed as Record<string, unknown>;
};
