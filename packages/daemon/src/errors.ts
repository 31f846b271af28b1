/** Bad input from the user (a flag, a config or key file): the message names what was wrong and where. Exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
