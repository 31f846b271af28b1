/**
 * One node as an operating-system process: `tandem node --config FILE` and
 * `node packages/daemon/dist/main.js --config FILE` (what `cluster up` starts). Runs until
 * SIGTERM or SIGINT, then shuts down cleanly; its write-ahead records are already on disk, so a
 * restart resumes every open settlement and never signs a conflicting vote.
 */
import { loadNodeConfig } from './config.js';
import { runNode } from './daemon.js';

/** Runs the node configured in `configFile` until a signal stops it. Bad config: UsageError. */
export async function runNodeUntilStopped(configFile: string): Promise<void> {
  const node = await runNode(loadNodeConfig(configFile));
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
