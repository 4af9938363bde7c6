import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Ortto's documented payload limit for a request body. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface ApiResponse {
  status: number;
  body: unknown;
}

export interface ErrorDetail {
  status: string;
  error: string;
}

/** Ortto's error envelope, as recorded live: {request_id, code, error, details?}. */
export function orttoError(status: number, error: string, details?: ErrorDetail[]): ApiResponse {
  return {
    status,
    body: {
      request_id: randomBytes(12).toString('hex'),
      code: status,
      error,
      ...(details === undefined ? {} : { details }),
    },
  };
}

/** The documented 429 body; `code` names why (the rate limit, or the bad-request ban). */
export function rateLimited(trySeconds: number, message = 'rate limit'): ApiResponse {
  return { status: 429, body: { error: { code: 'rate-limit', message, 'try-in-seconds': trySeconds } } };
}

export function send(
  res: ServerResponse,
  status: number,
  text: string,
  headers?: Record<string, string>,
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
    ...(status === 413 ? { Connection: 'close' } : {}),
    ...headers,
  });
  res.end(text);
}

export const sendJson = (
  res: ServerResponse,
  response: ApiResponse,
  headers?: Record<string, string>,
): void => send(res, response.status, JSON.stringify(response.body), headers);

/** The answer cut in half, as a gateway that dropped the rest would send it: never valid JSON. */
export const malformedText = (response: ApiResponse): string => {
  const full = JSON.stringify(response.body);
  return full.slice(0, full.length >> 1) || '{';
};

export type BodyResult = { ok: true; value: unknown } | { ok: false; response: ApiResponse };

/** Reads the whole body (discarding it past the limit, so the client is not cut off) and parses it as JSON. */
export async function readJsonBody(req: IncomingMessage): Promise<BodyResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size <= MAX_BODY_BYTES) chunks.push(buffer);
  }
  if (size > MAX_BODY_BYTES) return { ok: false, response: orttoError(413, 'Payload exceeds 2 MB') };
  const text = Buffer.concat(chunks).toString('utf8');
  // A read with no body is an empty filter, as `custom-field/get {}` is.
  if (text.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, response: orttoError(400, 'Request body is not valid JSON') };
  }
}
