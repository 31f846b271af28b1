import type { Command } from 'commander';

/** A command registers itself on the program; `setExit` records the process exit code. */
export type RegisterCommand = (program: Command, setExit: (code: number) => void) => void;
