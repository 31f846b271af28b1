/**
 * Bearer tokens: 32 random bytes as 64 lowercase hex digits, kept in a file of mode 0600 and read
 * from that file only (never argv, never the environment). A `Credential` holds one token and
 * never shows it: printing, logging or serializing it gives the file it came from, so a token
 * cannot leak through a log line or an error message by accident.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { inspect } from 'node:util';

export const TOKEN_BYTES = 32;
const TOKEN_HEX = /^[0-9a-f]{64}$/;
/** A token file holds the token and a newline; anything much longer is not a token file. */
const TOKEN_FILE_BYTES_MAX = 256;
const BEARER = /^Bearer ([^\s]+)$/;

/** A token file that is missing, unreadable, readable by others or malformed; the message names the file, never its content. */
export class TokenFileError extends Error {
  override readonly name = 'TokenFileError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

export class Credential {
  readonly #digest: Buffer;
  readonly #header: string;

  private constructor(
    tokenHex: string,
    /** Where the token came from: its file, or "(generated in memory)". Safe to show. */
    readonly source: string,
  ) {
    this.#digest = digestOf(tokenHex);
    this.#header = `Bearer ${tokenHex}`;
  }

  /** A fresh random token held in memory only (tests, and a server and its client in one process). */
  static generate(): Credential {
    return new Credential(randomBytes(TOKEN_BYTES).toString('hex'), '(generated in memory)');
  }

  /** Is `authorization` (the request's header) `Bearer <this token>`? Constant time in the token. */
  matches(authorization: string | undefined): boolean {
    const m = authorization === undefined ? null : BEARER.exec(authorization);
    // Comparing digests of equal length: the time taken says nothing about the token.
    return timingSafeEqual(digestOf(m?.[1] ?? ''), this.#digest) && m !== null;
  }

  /** The `authorization` header a client sends, merged into `headers`. */
  headers(headers: Readonly<Record<string, string>> = {}): Record<string, string> {
    return { ...headers, authorization: this.#header };
  }

  /** Do two credentials hold the same token? (Two roles must never share one.) */
  sameTokenAs(other: Credential): boolean {
    return timingSafeEqual(this.#digest, other.#digest);
  }

  toString(): string {
    return `Credential(${this.source})`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }

  /** Reads the token file at `path` (see readTokenFile). */
  static fromFile(path: string): Credential {
    return new Credential(readTokenHex(path), path);
  }

  /** Writes a fresh token to `path` (mode 0600, which must not exist yet) and returns it. */
  static createFile(path: string): Credential {
    const token = randomBytes(TOKEN_BYTES).toString('hex');
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    } catch (e) {
      throw new TokenFileError(path, `cannot create (${codeOf(e)})`);
    }
    try {
      writeSync(fd, `${token}\n`);
    } finally {
      closeSync(fd);
    }
    return new Credential(token, path);
  }

  /** The token in `path`, created there first when the file does not exist. */
  static ensureFile(path: string): Credential {
    try {
      return Credential.createFile(path);
    } catch (e) {
      if (e instanceof TokenFileError && e.problem === 'cannot create (EEXIST)') return Credential.fromFile(path);
      throw e;
    }
  }
}

function digestOf(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function codeOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
}

/**
 * The token in a file: a regular file (not a link), readable by its owner only, holding 64
 * lowercase hex digits and an optional newline. Anything else is a TokenFileError.
 */
function readTokenHex(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = codeOf(e);
    throw new TokenFileError(path, code === 'ENOENT' ? 'no such token file' : code === 'ELOOP' ? 'is a symbolic link (a token file must be a regular file)' : `cannot read (${code})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new TokenFileError(path, 'not a regular file');
    if ((st.mode & 0o077) !== 0) throw new TokenFileError(path, `mode ${(st.mode & 0o777).toString(8)} lets others read it: chmod 600 ${path}`);
    const buf = Buffer.alloc(TOKEN_FILE_BYTES_MAX + 1);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('utf8').replace(/\n$/, '');
    if (n > TOKEN_FILE_BYTES_MAX || !TOKEN_HEX.test(text)) throw new TokenFileError(path, `expected ${TOKEN_BYTES * 2} lowercase hex digits (a token made by Credential.createFile)`);
    return text;
  } finally {
    closeSync(fd);
  }
}
