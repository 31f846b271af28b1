/** Request bodies, bounded: every Tandem HTTP API reads them through here. */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './reply.js';

/**
 * The whole body (empty when there is none). A body over `limitBytes` is read to its end and
 * discarded, then refused with 413: answering before the sender has finished writing would make
 * many clients see a reset connection instead of the answer. The server's request timeout bounds
 * the wait. (A declared `content-length` over the limit never gets here: the guard refuses it.)
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total <= limitBytes) chunks.push(chunk);
    });
    req.on('error', (e) => reject(new HttpError(400, `body: could not be read (${e.message})`, 'body')));
    // A sender that disconnects mid-body: settle the promise (there is no one left to answer).
    req.on('close', () => {
      if (!req.complete) reject(new HttpError(400, 'body: ended early', 'body'));
    });
    req.on('end', () => {
      if (total > limitBytes) reject(bodyTooLarge(limitBytes));
      else resolve(Buffer.concat(chunks));
    });
  });
}

export function bodyTooLarge(limitBytes: number): HttpError {
  return new HttpError(413, `body: larger than ${limitBytes} bytes`, 'body', { connection: 'close' });
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as JSON: undefined when empty, a 400 naming `body` when it is not UTF-8 JSON. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new HttpError(400, 'body: not valid UTF-8', 'body');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new HttpError(400, `body: not valid JSON (${(e as Error).message})`, 'body');
  }
}

/** readBody then parseJsonBody. */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  return parseJsonBody(await readBody(req, limitBytes));
}
