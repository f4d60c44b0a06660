import { parseArgs } from 'node:util';
import { setPath } from '../config/env-layer.js';
import type { ConfigLayer } from '../config/load-config.js';
import { BridgeError } from '../errors.js';

/** What `slurm-pipes run` was asked to do, before configuration is resolved. */
export interface RunArgs {
  /** The payload and its arguments (everything after `--`). */
  payload: string[];
  /** Configuration given by flags (highest precedence). */
  flagLayer: ConfigLayer;
  /** `--config <file>`. */
  configFile?: string;
  /** Standalone-mode context: what Dagster would otherwise send. */
  standalone: StandaloneContextArgs;
  /** Print events as JSON lines instead of text (standalone mode). */
  json: boolean;
  help: boolean;
}

/** Context fields given on the command line for standalone runs. */
export interface StandaloneContextArgs {
  assetKeys: string[];
  partitionKey?: string;
  partitionKeyRange?: { start: string; end: string };
  partitionTimeWindow?: { start: string; end: string };
  extras: Record<string, unknown>;
  runId?: string;
  jobName?: string;
  retryNumber?: number;
}

/** Usage text of `slurm-pipes run`. */
export const RUN_USAGE = `Usage: slurm-pipes run [options] -- <payload> [payload args…]

Runs a payload (a .py script, a .js/.ts Node worker, or any executable) and relays its Dagster
Pipes messages: to Dagster when Dagster launched the bridge, else printed here.

Configuration
  --mode <local|slurm>        where the payload runs (env SLURM_PIPES_MODE; default local)
  --config <file>             JSON configuration file (env SLURM_PIPES_CONFIG)
  --python <path>             Python for .py payloads in local mode (env SLURM_PIPES_PYTHON)
  --node <path>               Node.js for .js/.ts payloads (env SLURM_PIPES_NODE)
  --env KEY=VALUE             environment for the payload (repeatable)
  --slurm-opt KEY=VALUE       per-call Slurm override, e.g. mem=8G (repeatable)
  --extra-file <path>         ship a file with the payload (repeatable)

Standalone context (used when Dagster did not launch the bridge)
  --asset-key <a/b>           asset key, escaped as Dagster does (repeatable)
  --partition <key>           partition key
  --partition-range <s>..<e>  partition key range
  --time-window <s>..<e>      partition time window (ISO 8601)
  --extra KEY=VALUE           context extra; VALUE is parsed as JSON when it is JSON (repeatable)
  --run-id <id>  --job-name <name>  --retry-number <n>
  --json                      print events as JSON lines

  -h, --help                  this text`;

function splitPair(flag: string, raw: string): [string, string] {
  const eq = raw.indexOf('=');
  if (eq <= 0)
    throw new BridgeError('ERR_BRIDGE_USAGE', `${flag} expects KEY=VALUE, got ${JSON.stringify(raw)}.`);
  return [raw.slice(0, eq), raw.slice(eq + 1)];
}

function splitRange(flag: string, raw: string): { start: string; end: string } {
  const i = raw.indexOf('..');
  if (i <= 0 || i + 2 >= raw.length) {
    throw new BridgeError('ERR_BRIDGE_USAGE', `${flag} expects START..END, got ${JSON.stringify(raw)}.`);
  }
  return { start: raw.slice(0, i), end: raw.slice(i + 2) };
}

function jsonOrString(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/**
 * Parses the arguments of `slurm-pipes run`.
 * @throws {BridgeError} `ERR_BRIDGE_USAGE` for unknown flags or malformed values.
 */
export function parseRunArgs(argv: readonly string[]): RunArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (cause) {
    throw new BridgeError('ERR_BRIDGE_USAGE', `${(cause as Error).message}\n\n${RUN_USAGE}`, { cause });
  }
  const v = parsed.values;
  const values: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  const put = (path: string, value: unknown, flag: string) => {
    if (value === undefined) return;
    setPath(values, path, value);
    sources.set(path, flag);
  };
  put('mode', v.mode, '--mode');
  put('local.python', v.python, '--python');
  put('local.node', v.node, '--node');
  for (const raw of v.env ?? []) {
    const [k, val] = splitPair('--env', raw);
    put(`payloadEnv.${k}`, val, '--env');
  }
  for (const raw of v['slurm-opt'] ?? []) {
    const [k, val] = splitPair('--slurm-opt', raw);
    put(`extraSlurmOpts.${k}`, jsonOrString(val), '--slurm-opt');
  }
  if (v['extra-file'] !== undefined) put('extraFiles', v['extra-file'], '--extra-file');

  const extras: Record<string, unknown> = {};
  for (const raw of v.extra ?? []) {
    const [k, val] = splitPair('--extra', raw);
    extras[k] = jsonOrString(val);
  }
  let retryNumber: number | undefined;
  if (v['retry-number'] !== undefined) {
    retryNumber = Number(v['retry-number']);
    if (!Number.isInteger(retryNumber) || retryNumber < 0) {
      throw new BridgeError(
        'ERR_BRIDGE_USAGE',
        `--retry-number expects a whole number ≥ 0, got ${JSON.stringify(v['retry-number'])}.`,
      );
    }
  }
  const standalone: StandaloneContextArgs = { assetKeys: v['asset-key'] ?? [], extras };
  if (v.partition !== undefined) standalone.partitionKey = v.partition;
  if (v['partition-range'] !== undefined)
    standalone.partitionKeyRange = splitRange('--partition-range', v['partition-range']);
  if (v['time-window'] !== undefined)
    standalone.partitionTimeWindow = splitRange('--time-window', v['time-window']);
  if (v['run-id'] !== undefined) standalone.runId = v['run-id'];
  if (v['job-name'] !== undefined) standalone.jobName = v['job-name'];
  if (retryNumber !== undefined) standalone.retryNumber = retryNumber;

  const result: RunArgs = {
    payload: parsed.positionals,
    flagLayer: { source: 'command line', values, sources },
    standalone,
    json: v.json === true,
    help: v.help === true,
  };
  if (v.config !== undefined) result.configFile = v.config;
  return result;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      mode: { type: 'string' },
      config: { type: 'string' },
      python: { type: 'string' },
      node: { type: 'string' },
      env: { type: 'string', multiple: true },
      'slurm-opt': { type: 'string', multiple: true },
      'extra-file': { type: 'string', multiple: true },
      'asset-key': { type: 'string', multiple: true },
      partition: { type: 'string' },
      'partition-range': { type: 'string' },
      'time-window': { type: 'string' },
      extra: { type: 'string', multiple: true },
      'run-id': { type: 'string' },
      'job-name': { type: 'string' },
      'retry-number': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
