import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ApiResponse, apiError } from './handlers.ts';

/** Request bodies above this get 413 (the real limit is undocumented; 100 contacts fit easily). */
export const MAX_BODY_BYTES = 1024 * 1024;

export type BodyResult = { ok: true; value: unknown } | { ok: false; response: ApiResponse };

export function send(
  res: ServerResponse,
  response: ApiResponse,
  extraHeaders?: Record<string, string>,
): void {
  if (response.body === undefined) {
    sendText(res, response.status, undefined, extraHeaders);
    return;
  }
  sendText(res, response.status, JSON.stringify(response.body), extraHeaders);
}

/** `text` undefined sends no body; otherwise it goes out as application/json, whatever it holds. */
export function sendText(
  res: ServerResponse,
  status: number,
  text: string | undefined,
  extraHeaders?: Record<string, string>,
): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string> = { 'Last-Modified': new Date().toUTCString(), ...extraHeaders };
  if (status === 413) headers.Connection = 'close';
  if (text === undefined) {
    if (status !== 204) headers['Content-Length'] = '0';
    res.writeHead(status, headers);
    res.end();
    return;
  }
  headers['Content-Type'] = 'application/json';
  headers['Content-Length'] = String(Buffer.byteLength(text));
  res.writeHead(status, headers);
  res.end(text);
}

/**
 * The answer cut in half, as a gateway that dropped the rest would send it: never valid JSON,
 * since every answer of this API is an object or an array. A 204 becomes a 200 to carry it.
 */
export function malformed(response: ApiResponse): { status: number; text: string } {
  const full = response.body === undefined ? '{}' : JSON.stringify(response.body);
  return {
    status: response.status === 204 ? 200 : response.status,
    text: full.slice(0, full.length >> 1) || '{',
  };
}

/**
 * Reads the whole body (discarding it past the limit, so the client is not cut off mid-send) and
 * parses it as JSON whatever the Content-Type says: real clients all send application/json.
 */
export async function readJsonBody(req: IncomingMessage): Promise<BodyResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size <= MAX_BODY_BYTES) chunks.push(buffer);
  }
  if (size > MAX_BODY_BYTES) return { ok: false, response: apiError(413, 'Request body exceeds 1 MB.') };
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { ok: false, response: apiError(400, 'Request body is not valid JSON.') };
  }
}
