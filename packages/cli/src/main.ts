import { Command, CommanderError } from 'commander';
import { UsageError } from './errors.js';
import { commands } from './commands/index.js';

/**
 * Builds the `tandem` program. Each command lives in its own module under commands/ and registers
 * itself; an action returns its exit code (0 ok, 1 not ok, 2 bad input).
 */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('tandem')
    .description('Tandem: atomic Delivery-versus-Payment across a chain and a bank ledger, by threshold-signed BFT consensus')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const register of commands) register(program, setExit);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; every other parse problem is bad input.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`tandem: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
