import { PipesError } from '../errors.js';
import { PIPES_PROTOCOL_VERSION_FIELD } from '../schemas/message.js';
import type { DecodedLine } from './line-decoder.js';
import { parsePipesMessage, validatePipesMessage } from './parse-message.js';
import type { PipesOutputStream, PipesReaderEvent } from './reader-events.js';

/**
 * Turns a decoded line of a messages file into an event: every line must be a message, so a
 * line that is not (including a blank one) is a `protocol-error`. Dagster's file reader would
 * stop at such a line; this one reports it and goes on.
 */
export function fileLineEvent(decoded: DecodedLine): PipesReaderEvent {
  if (decoded.kind === 'too-long') {
    return { kind: 'protocol-error', error: decoded.error, raw: decoded.head, line: decoded.line };
  }
  try {
    return {
      kind: 'message',
      message: parsePipesMessage(decoded.text),
      raw: decoded.text,
      line: decoded.line,
    };
  } catch (error) {
    return { kind: 'protocol-error', error: asPipesError(error), raw: decoded.text, line: decoded.line };
  }
}

/**
 * Turns a decoded line of the child's stdout/stderr into an event, like Dagster's
 * `extract_message_or_forward_to_file`: a JSON object with `__dagster_pipes_version` is a
 * message, any other line is `output`. Unlike Dagster, which forwards a Pipes-looking line that
 * fails handling as output, such a line is reported as a `protocol-error` (its `raw` keeps the text).
 */
export function stdioLineEvent(decoded: DecodedLine, stream: PipesOutputStream): PipesReaderEvent {
  if (decoded.kind === 'too-long') {
    return { kind: 'protocol-error', error: decoded.error, raw: decoded.head, line: decoded.line };
  }
  const { text, line } = decoded;
  const value = looksLikeJsonObject(text) ? tryJson(text) : undefined;
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    !(PIPES_PROTOCOL_VERSION_FIELD in value)
  ) {
    return { kind: 'output', stream, text, line };
  }
  try {
    return { kind: 'message', message: validatePipesMessage(value), raw: text, line };
  } catch (error) {
    return { kind: 'protocol-error', error: asPipesError(error), raw: text, line };
  }
}

// Cheap pre-check so ordinary output lines are not run through JSON.parse.
function looksLikeJsonObject(text: string): boolean {
  const trimmed = text.trim();
  return trimmed.startsWith('{') && trimmed.endsWith('}');
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function asPipesError(error: unknown): PipesError {
  return error instanceof PipesError
    ? error
    : new PipesError('ERR_PIPES_INVALID_MESSAGE', `Message could not be read: ${String(error)}`, {
        cause: error,
      });
}
