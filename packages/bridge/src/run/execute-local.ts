import {
  openPipesSession,
  type PipesException,
  type PipesMessageChannel,
  type PipesReaderEvent,
} from '@slurm-pipes/pipes-protocol';
import { launchLocalPayload } from '../local/local-launcher.js';
import { bridgeExitCode, closedException } from './closed-exception.js';
import { notRelayedText, pipesEnvelope } from './envelope.js';
import { payloadEnvironment } from './payload-env.js';
import type { StepContext, StepOutcome } from './step-executor.js';

/**
 * Local mode: runs the payload as a child process under a fresh Pipes session whose context is
 * Dagster's, unchanged, and relays every message line as it arrives.
 */
export async function executeLocal(step: StepContext): Promise<StepOutcome> {
  const session = await openPipesSession({
    context: step.contextData as never,
    injector: 'file',
    reader: 'file',
    streaming: true,
  });
  let payloadException: PipesException | null = null;
  const relay = (async () => {
    for await (const event of session.events()) {
      payloadException = relayEvent(step.channel, event) ?? payloadException;
    }
  })();
  const child = await launchLocalPayload({
    argv: step.payload.argv,
    env: payloadEnvironment(step.env, step.config.payloadEnv, session.bootstrapEnv()),
    stdout: step.output.stdout as never,
    stderr: step.output.stderr as never,
    signal: step.signal,
    terminationGraceMs: step.config.terminationGraceMs,
  }).catch(async (error: unknown) => {
    await session.close();
    throw error;
  });
  const exit = await child.exited;
  await session.close();
  await relay;
  return {
    exitCode: bridgeExitCode(exit),
    exception: closedException(step.payload.path, exit, payloadException),
  };
}

/**
 * Relays one event of the payload's session to Dagster. The payload's `opened` is folded into the
 * bridge's own; its `closed` is not relayed but its exception returned (null for a clean close).
 */
export function relayEvent(
  channel: PipesMessageChannel,
  event: PipesReaderEvent,
): PipesException | null | undefined {
  switch (event.kind) {
    case 'message': {
      const { message } = event;
      if (message.method === 'opened') return undefined;
      if (message.method === 'closed') return message.params?.exception ?? null;
      channel.writeLine(event.raw);
      return undefined;
    }
    case 'protocol-error':
      channel.write(
        pipesEnvelope('log', {
          message: notRelayedText(event.line, event.error),
          level: 'ERROR',
        }),
      );
      return undefined;
    case 'output':
      return undefined;
  }
}
