import { buildPipesContextData, openPipesSession } from '@slurm-pipes/pipes-protocol';
import type { StandaloneContextArgs } from '../cli/run-args.js';
import { jsonPrinter, textPrinter } from '../output/event-printer.js';
import type { RelayOptions } from './relay-to-dagster.js';
import { relayToDagster } from './relay-to-dagster.js';

/** What {@link runStandalone} needs. */
export interface StandaloneOptions extends Omit<RelayOptions, 'env'> {
  context: StandaloneContextArgs;
  env: NodeJS.ProcessEnv;
  json: boolean;
  /** Where events are printed. */
  write: (line: string) => void;
}

/**
 * No Dagster: the bridge plays Dagster's part itself. It opens a host session with a context built
 * from flags, relays to it exactly as it would to Dagster, and prints each event as it arrives.
 * Fails when the payload fails or reports an exception.
 */
export async function runStandalone(options: StandaloneOptions): Promise<number> {
  const c = options.context;
  const context = buildPipesContextData({
    assetKeys: c.assetKeys.length > 0 ? c.assetKeys : null,
    partitionKey: c.partitionKey ?? null,
    ...(c.partitionKeyRange === undefined ? {} : { partitionKeyRange: c.partitionKeyRange }),
    ...(c.partitionTimeWindow === undefined ? {} : { partitionTimeWindow: c.partitionTimeWindow }),
    ...(c.runId === undefined ? {} : { runId: c.runId }),
    jobName: c.jobName ?? null,
    retryNumber: c.retryNumber ?? 0,
    extras: c.extras,
  });
  const printer = options.json ? jsonPrinter(options.write) : textPrinter(options.write);
  const session = await openPipesSession({ context, injector: 'file', reader: 'file', streaming: true });
  const printing = (async () => {
    for await (const event of session.events()) {
      // The bridge's own opened/closed frame the run; show the payload's story, not the envelope.
      printer.event(event);
    }
  })();
  let exitCode: number;
  try {
    exitCode = await relayToDagster({ ...options, env: { ...options.env, ...session.bootstrapEnv() } });
  } finally {
    await session.close();
    await printing;
  }
  const results = session.results;
  for (const warning of results.warnings) {
    options.write(
      options.json ? JSON.stringify({ event: 'warning', ...warning }) : `  warning: ${warning.message}`,
    );
  }
  const exception = results.closed?.exception ?? null;
  const ok = exitCode === 0 && exception === null;
  printer.summary({
    ok,
    exit: exception === null ? `exited with code ${exitCode}` : exception.message.trimEnd(),
    materializations: results.counts.materializations,
    checks: results.counts.checks,
    failedChecks: results.counts.failedChecks,
    protocolErrors: results.counts.protocolErrors,
  });
  return ok ? 0 : exitCode === 0 ? 1 : exitCode;
}
