import { PIPES_PROTOCOL_VERSION, PIPES_PROTOCOL_VERSION_FIELD } from '@slurm-pipes/pipes-protocol';

/** A Pipes message the bridge writes itself. */
export function pipesEnvelope(method: string, params: object) {
  return { [PIPES_PROTOCOL_VERSION_FIELD]: PIPES_PROTOCOL_VERSION, method, params };
}
