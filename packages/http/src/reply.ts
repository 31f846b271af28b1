/** Answers: every Tandem HTTP API answers JSON, errors as `{ error, field? }` naming what was wrong. */
import type { ServerResponse } from 'node:http';

/** An answer other than 2xx. `field` names the part of the request at fault (a header, `body`, a key). */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  /** The JSON body: `{ error }`, and `field` when one is named. */
  body(): { error: string; field?: string } {
    return this.field === undefined ? { error: this.message } : { error: this.message, field: this.field };
  }
}

/** Sends `text` (already JSON) with `status`; a response already under way is left alone. */
export function sendJsonText(res: ServerResponse, status: number, text: string, headers: Readonly<Record<string, string>> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  sendJsonText(res, status, JSON.stringify(body), headers);
}

export function sendError(res: ServerResponse, e: HttpError): void {
  sendJson(res, e.status, e.body(), e.headers);
}
