/**
 * One node as an operating-system process: `tandem node --config FILE` and
 * `node packages/daemon/dist/main.js --config FILE` (what `cluster up` starts). Runs until
 * SIGTERM or SIGINT, then shuts down cleanly; its write-ahead records are already on disk, so a
 * restart resumes every open settlement and never signs a conflicting vote. A start that fails
 * because of the config (a damaged data directory, a port taken, a path it cannot write) is a
 * UsageError naming the file and the key: exit 2, never a stack trace.
 */
import { loadNodeConfig } from './config.js';
import { runNode } from './daemon.js';
import { ConfigKeyError, UsageError } from './errors.js';
import type { RunOptions } from './startup.js';

/** Runs the node configured in `configFile` until a signal stops it. Bad config: UsageError. */
export async function runNodeUntilStopped(configFile: string, options: RunOptions = {}): Promise<void> {
  const config = loadNodeConfig(configFile);
  let node: Awaited<ReturnType<typeof runNode>>;
  try {
    node = await runNode(config, undefined, options);
  } catch (e) {
    if (e instanceof ConfigKeyError) throw new UsageError(`${configFile}: ${e.message}`);
    throw e;
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      void node.stop().then(resolve, resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
