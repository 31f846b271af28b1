/** Bad input from the user (a flag, a config or key file): the message names what was wrong and where. Exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * What one key of the node config led to when the node started (a port taken, a path it cannot
 * write, a damaged data directory): a UsageError that names the key; the caller that read the
 * config file adds its name (process.ts).
 */
export class ConfigKeyError extends UsageError {
  constructor(
    readonly key: string,
    readonly detail: string,
  ) {
    super(`key "${key}": ${detail}`);
  }
}
