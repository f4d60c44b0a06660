import { deflateSync, inflateSync } from 'node:zlib';
import { PipesError } from '../errors.js';
import { stringifyJson } from '../json.js';

/** The environment variable carrying the encoded context params. */
export const DAGSTER_PIPES_CONTEXT_ENV_VAR = 'DAGSTER_PIPES_CONTEXT';
/** The environment variable carrying the encoded message params. */
export const DAGSTER_PIPES_MESSAGES_ENV_VAR = 'DAGSTER_PIPES_MESSAGES';
/** CLI flag equivalent of {@link DAGSTER_PIPES_CONTEXT_ENV_VAR}, followed by the value as its own argv token. */
export const DAGSTER_PIPES_CONTEXT_FLAG = '--dagster-pipes-context';
/** CLI flag equivalent of {@link DAGSTER_PIPES_MESSAGES_ENV_VAR}. */
export const DAGSTER_PIPES_MESSAGES_FLAG = '--dagster-pipes-messages';

/**
 * Encodes a bootstrap param the way `dagster_pipes.encode_param` does:
 * base64(zlib(utf8(json.dumps(value)))). The JSON text is byte-identical to Python's;
 * the compressed bytes can differ from Python's zlib for larger inputs (decoding works both ways).
 */
export function encodeParam(value: unknown): string {
  return deflateSync(Buffer.from(stringifyJson(value, { pythonStyle: true }), 'utf8')).toString('base64');
}

/**
 * Decodes a bootstrap param (`dagster_pipes.decode_param`).
 * @throws {PipesError} `ERR_PIPES_INVALID_PARAMS` naming `what` when any layer fails.
 */
export function decodeParam(encoded: string, what = 'param'): unknown {
  let json: string;
  try {
    json = inflateSync(Buffer.from(encoded, 'base64')).toString('utf8');
  } catch (cause) {
    throw new PipesError(
      'ERR_PIPES_INVALID_PARAMS',
      `${what} is not base64-encoded zlib data (got ${JSON.stringify(encoded.slice(0, 40))}${encoded.length > 40 ? '…' : ''}). It must be produced by Dagster's encode_param or encodeParam().`,
      { cause },
    );
  }
  try {
    return JSON.parse(json);
  } catch (cause) {
    throw new PipesError('ERR_PIPES_INVALID_PARAMS', `${what} decodes to text that is not JSON.`, { cause });
  }
}
