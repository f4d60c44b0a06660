import { PipesContextData } from '@slurm-pipes/pipes-protocol';
import * as z from 'zod';
import { BridgeError } from '../errors.js';
import type { RunDirKey } from './run-dir.js';

/** Dagster's context as the step uses it: the exact JSON for the cluster, and the fields that name the run directory. */
export interface StepContext {
  /** The context JSON written to context.json (the text itself when the caller passed text). */
  json: string;
  data: PipesContextData;
}

/**
 * Reads Dagster's raw context (an object, or its JSON text, which is then kept byte for byte).
 * @throws {BridgeError} `ERR_BRIDGE_CONFIG` when it is not a valid `PipesContextData`.
 */
export function readStepContext(raw: Readonly<Record<string, unknown>> | string): StepContext {
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (cause) {
      throw new BridgeError(
        'ERR_BRIDGE_CONFIG',
        `The Pipes context is not JSON: ${(cause as Error).message}.`,
        {
          cause,
        },
      );
    }
  }
  const parsed = PipesContextData.safeParse(value);
  if (!parsed.success) {
    throw new BridgeError(
      'ERR_BRIDGE_CONFIG',
      `The Pipes context does not match PipesContextData:\n${z.prettifyError(parsed.error)}`,
      { cause: parsed.error },
    );
  }
  return { json: typeof raw === 'string' ? raw : JSON.stringify(raw), data: parsed.data };
}

/** The fields of the context (and the payload) that name the step's run directory. */
export function runDirKey(data: PipesContextData, payloadArgv: readonly string[]): RunDirKey {
  return {
    runId: data.run_id,
    assetKeys: data.asset_keys,
    partitionKey: data.partition_key,
    partitionKeyRange: data.partition_key_range,
    jobName: data.job_name,
    payload: payloadArgv,
  };
}
