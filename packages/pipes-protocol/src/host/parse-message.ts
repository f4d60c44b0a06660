import * as z from 'zod';
import { PipesError } from '../errors.js';
import {
  PIPES_METHODS,
  PIPES_PROTOCOL_VERSION,
  PIPES_PROTOCOL_VERSION_FIELD,
  type PipesMessage,
  PipesMessageEnvelope,
  type PipesMethod,
  PipesParamsByMethod,
} from '../schemas/message.js';

// Params are checked inside a `{params}` wrapper so that prettified issues read `→ at params.level`.
const wrappedParams = {} as Record<PipesMethod, z.ZodType>;
for (const method of PIPES_METHODS)
  wrappedParams[method] = z.looseObject({ params: PipesParamsByMethod[method] });

const isPipesMethod = (method: string): method is PipesMethod =>
  (PIPES_METHODS as readonly string[]).includes(method);

/** A short, single-line excerpt of `text` for error messages. */
export function preview(text: string, max = 120): string {
  const excerpt = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(excerpt);
}

/**
 * Parses one message line (without its newline) into a typed {@link PipesMessage}: JSON, then
 * the envelope, then the params of its method. Lenient where Dagster's host is: a missing
 * `__dagster_pipes_version` is accepted (the file reader never looks at it) and reads as
 * {@link PIPES_PROTOCOL_VERSION}; surrounding whitespace is ignored.
 *
 * @throws {PipesError} `ERR_PIPES_INVALID_MESSAGE` when the line is not JSON (cause: the
 *   `SyntaxError`), is not an envelope, names an unknown method, or has params that do not match
 *   the method (message: the method and `z.prettifyError` of the problem; cause: the `ZodError`).
 */
export function parsePipesMessage(line: string): PipesMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (cause) {
    throw new PipesError(
      'ERR_PIPES_INVALID_MESSAGE',
      `Message line is not JSON (${(cause as Error).message}): ${preview(line)}. Each message must be one JSON object alone on its line.`,
      { cause },
    );
  }
  return validatePipesMessage(value);
}

/**
 * Validates an already-parsed JSON value as a {@link PipesMessage}; see {@link parsePipesMessage}.
 * @throws {PipesError} `ERR_PIPES_INVALID_MESSAGE` as {@link parsePipesMessage} does, minus the JSON step.
 */
export function validatePipesMessage(value: unknown): PipesMessage {
  const envelope = PipesMessageEnvelope.safeParse(value);
  if (!envelope.success) {
    throw new PipesError(
      'ERR_PIPES_INVALID_MESSAGE',
      `Message is not a Pipes envelope {"${PIPES_PROTOCOL_VERSION_FIELD}", "method", "params"}:\n${z.prettifyError(envelope.error)}`,
      { cause: envelope.error },
    );
  }
  const { method } = envelope.data;
  if (!isPipesMethod(method)) {
    throw new PipesError(
      'ERR_PIPES_INVALID_MESSAGE',
      `Unknown message method ${JSON.stringify(method)}; expected one of ${PIPES_METHODS.join(', ')}.`,
    );
  }
  const checked = wrappedParams[method].safeParse(envelope.data);
  if (!checked.success) {
    throw new PipesError(
      'ERR_PIPES_INVALID_MESSAGE',
      `Invalid params for method "${method}":\n${z.prettifyError(checked.error)}`,
      { cause: checked.error },
    );
  }
  // The schemas do not transform, so the checked input is returned as is. zod's output would
  // lose record keys named `__proto__` (a legal metadata or extras key in Python).
  return {
    [PIPES_PROTOCOL_VERSION_FIELD]: envelope.data[PIPES_PROTOCOL_VERSION_FIELD] ?? PIPES_PROTOCOL_VERSION,
    method,
    params: (value as { params: unknown }).params,
  } as PipesMessage;
}
