import { buildPipesContextData, openPipesSession, type PipesException } from '@slurm-pipes/pipes-protocol';
import type { StandaloneContextArgs } from '../cli/run-args.js';
import type { BridgeConfig } from '../config/schema.js';
import { describeExit, launchLocalPayload } from '../local/local-launcher.js';
import { jsonPrinter, textPrinter } from '../output/event-printer.js';
import type { PayloadCommand } from '../payload/payload-command.js';
import { bridgeExitCode } from './closed-exception.js';
import { payloadEnvironment } from './payload-env.js';

/** What {@link runStandalone} needs. */
export interface StandaloneOptions {
  config: BridgeConfig;
  payload: PayloadCommand;
  context: StandaloneContextArgs;
  env: NodeJS.ProcessEnv;
  json: boolean;
  /** Where events are printed. */
  write: (line: string) => void;
  /** Where the payload's own stdout goes (stderr in JSON mode, so stdout stays JSON). */
  payloadStdout: NodeJS.WritableStream;
  signal: AbortSignal;
}

/**
 * No Dagster: the bridge is its own Pipes host. It builds the context from flags, runs the
 * payload, prints each event as it arrives, and fails when the payload fails or reports an exception.
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
  const session = await openPipesSession({ context, injector: 'file', reader: 'file' });
  const printing = (async () => {
    for await (const event of session.events()) printer.event(event);
  })();
  const child = await launchLocalPayload({
    argv: options.payload.argv,
    env: payloadEnvironment(options.env, options.config.payloadEnv, session.bootstrapEnv()),
    stdout: options.payloadStdout as never,
    signal: options.signal,
    terminationGraceMs: options.config.terminationGraceMs,
  }).catch(async (error: unknown) => {
    await session.close();
    throw error;
  });
  const exit = await child.exited;
  const results = await session.close();
  await printing;
  for (const warning of results.warnings)
    options.write(
      options.json ? JSON.stringify({ event: 'warning', ...warning }) : `  warning: ${warning.message}`,
    );
  const exception: PipesException | null = results.closed?.exception ?? null;
  const ok = exit.exitCode === 0 && exception === null;
  printer.summary({
    ok,
    exit: describeExit(exit),
    materializations: results.materializations.length,
    checks: results.checks.length,
    failedChecks: results.checks.filter((r) => !r.passed).length,
    protocolErrors: results.protocolErrors.length,
  });
  if (ok) return 0;
  return exit.exitCode === 0 ? 1 : bridgeExitCode(exit);
}
