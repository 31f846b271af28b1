/** Bad input from the user: the message names what was wrong and where. Exit code 2. */
export { UsageError } from '@tandem/daemon';
