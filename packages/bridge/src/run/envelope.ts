import { PIPES_PROTOCOL_VERSION, PIPES_PROTOCOL_VERSION_FIELD } from '@slurm-pipes/pipes-protocol';

/** A Pipes message the bridge writes itself. */
export function pipesEnvelope(method: string, params: object) {
  return { [PIPES_PROTOCOL_VERSION_FIELD]: PIPES_PROTOCOL_VERSION, method, params };
}

/**
 * The ERROR log the bridge sends Dagster in place of a payload message line it could not relay:
 * the line's number, what was wrong, the error's code and the fix. Reading goes on with the next line.
 */
export function notRelayedText(line: number, error: { code?: string; message: string }): string {
  const code = error.code === undefined ? '' : ` [${error.code}]`;
  return `[slurm-pipes] payload message line ${line} was not relayed: ${error.message.trimEnd()}${code}\nThe lines around it were relayed. Fix: correct the payload code that wrote this line; report messages through dagster_pipes (Python) or openDagsterPipes (Node) rather than writing them by hand.`;
}
