/**
 * The small HTTP client every devnet part uses to talk to node control APIs and the leg host.
 * Every call carries a credential (secrets.ts): each of those listeners answers 401 without one.
 */
import type { Credential } from '@tandem/http';

/** How long a GET may take before it counts as no answer. */
export const GET_TIMEOUT_MS = 2_000;
/** How long a POST may take. */
export const POST_TIMEOUT_MS = 5_000;
/** How often `waitFor` asks again. */
const WAIT_POLL_MS = 100;

export async function getJson(url: string, credential: Credential): Promise<unknown> {
  const res = await fetch(url, { headers: credential.headers(), signal: AbortSignal.timeout(GET_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

/** A POST answered with an error status: the status and the body as sent (a node's refusal names its reason). */
export class PostError extends Error {
  constructor(
    url: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${url}: HTTP ${status} ${body}`);
  }
}

export async function postJson(url: string, body: unknown, credential: Credential): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: credential.headers({ 'content-type': 'application/json' }), body: JSON.stringify(body), signal: AbortSignal.timeout(POST_TIMEOUT_MS) });
  const text = await res.text();
  if (!res.ok) throw new PostError(url, res.status, text);
  return text.length > 0 ? JSON.parse(text) : null;
}

/**
 * POSTs and says whether the server answered at all: any HTTP status (a refusal is an answer) is
 * true; no answer (connection refused or reset, timeout: the process was dying) is false.
 */
export async function postAnswered(url: string, body: unknown, credential: Credential): Promise<boolean> {
  return postJson(url, body, credential).then(
    () => true,
    (e: unknown) => e instanceof PostError,
  );
}

/** Asks `probe` until it answers non-null (a throw counts as null), or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
  }
}

/**
 * Reads, trying again on failure (`attempts` in all): a read that meets a keep-alive connection
 * the server just closed fails with "other side closed" although nothing is wrong. Only for
 * idempotent reads.
 */
export async function retried<T>(read: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await read();
    } catch (e) {
      if (i >= attempts) throw e;
      await new Promise((r) => setTimeout(r, 200 * i));
    }
  }
}
