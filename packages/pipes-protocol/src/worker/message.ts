import {
  PIPES_PROTOCOL_VERSION,
  PIPES_PROTOCOL_VERSION_FIELD,
  type PipesMethod,
} from '../schemas/message.js';

/** A message as written by the worker: the envelope with params in Python's key order. */
export interface PipesOutgoingMessage {
  [PIPES_PROTOCOL_VERSION_FIELD]: string;
  method: PipesMethod;
  params: Record<string, unknown> | null;
}

/** Builds a message envelope in Python's key order (`__dagster_pipes_version`, `method`, `params`). */
export function makePipesMessage(
  method: PipesMethod,
  params: Record<string, unknown> | null,
): PipesOutgoingMessage {
  return { [PIPES_PROTOCOL_VERSION_FIELD]: PIPES_PROTOCOL_VERSION, method, params };
}
