import {
  loadPipesBootstrap,
  openMessageWriterChannel,
  openPipesSession,
  PIPES_PROTOCOL_VERSION,
  PIPES_PROTOCOL_VERSION_FIELD,
  type PipesException,
  type PipesMessageChannel,
  type PipesReaderEvent,
  toPipesException,
} from '@slurm-pipes/pipes-protocol';
import type { BridgeConfig } from '../config/schema.js';
import { launchLocalPayload } from '../local/local-launcher.js';
import type { PayloadCommand } from '../payload/payload-command.js';
import { bridgeExitCode, closedException } from './closed-exception.js';
import { payloadEnvironment } from './payload-env.js';

/** What {@link relayToDagster} needs from its caller. */
export interface RelayOptions {
  /** Resolves configuration and payload; called after the channel to Dagster is open, so its errors reach Dagster. */
  prepare: () => { config: BridgeConfig; payload: PayloadCommand };
  env: NodeJS.ProcessEnv;
  /** Aborted when Dagster asks the bridge to stop (SIGINT/SIGTERM). */
  signal: AbortSignal;
}

function envelope(method: string, params: object) {
  return { [PIPES_PROTOCOL_VERSION_FIELD]: PIPES_PROTOCOL_VERSION, method, params };
}

/**
 * Dagster launched the bridge: open our own Pipes channel to Dagster, run the payload under a
 * fresh session whose context is Dagster's unchanged, and relay every message as it arrives.
 * The payload's `opened`/`closed` fold into the bridge's own; its exception is carried through.
 * Returns the exit code (non-zero fails the Dagster step).
 */
export async function relayToDagster(options: RelayOptions): Promise<number> {
  const bootstrap = loadPipesBootstrap({ env: options.env, argv: [] });
  const channel = openMessageWriterChannel(bootstrap.messagesParams);
  channel.write(envelope('opened', { extras: {} }));
  let closedSent = false;
  const sendClosed = async (exception: PipesException | null) => {
    if (closedSent) return;
    closedSent = true;
    channel.write(envelope('closed', exception === null ? {} : { exception }));
    await channel.close();
  };

  try {
    const { config, payload } = options.prepare();
    const session = await openPipesSession({
      context: bootstrap.rawContextData as never,
      injector: 'file',
      reader: 'file',
    });
    let payloadException: PipesException | null = null;
    const relay = (async () => {
      for await (const event of session.events()) {
        payloadException = relayEvent(channel, event) ?? payloadException;
      }
    })();
    const child = await launchLocalPayload({
      argv: payload.argv,
      env: payloadEnvironment(options.env, config.payloadEnv, session.bootstrapEnv()),
      signal: options.signal,
      terminationGraceMs: config.terminationGraceMs,
    }).catch(async (error: unknown) => {
      await session.close();
      throw error;
    });
    const exit = await child.exited;
    await session.close();
    await relay;
    await sendClosed(closedException(payload.path, exit, payloadException));
    return bridgeExitCode(exit);
  } catch (error) {
    await sendClosed(toPipesException(error));
    throw error;
  }
}

// Returns the payload's exception when the event is its `closed` message.
function relayEvent(
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
        envelope('log', {
          message: `[slurm-pipes] payload message line ${event.line} was not relayed: ${event.error.message}`,
          level: 'ERROR',
        }),
      );
      return undefined;
    case 'output':
      return undefined;
  }
}
