import { ENV_PATHS } from './env-paths.js';
import type { ConfigLayer } from './load-config.js';
import { fileLayer, parseJsonObject } from './load-config.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Sets `value` at a dotted path, creating objects on the way. */
export function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let cur = target;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (typeof next === 'object' && next !== null) cur = next as Record<string, unknown>;
    else {
      const created: Record<string, unknown> = {};
      cur[p] = created;
      cur = created;
    }
  }
  cur[parts.at(-1) as string] = value;
}

/**
 * The configuration layers that come from the environment, lowest precedence first: the file
 * named by `SLURM_PIPES_CONFIG`, then `SLURM_PIPES_CONFIG_JSON`, then single variables.
 * Blank variables count as unset.
 */
export function envLayers(env: Env): ConfigLayer[] {
  const get = (name: string) => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const layers: ConfigLayer[] = [];
  const file = get('SLURM_PIPES_CONFIG');
  if (file !== undefined) layers.push(fileLayer(file));
  const json = get('SLURM_PIPES_CONFIG_JSON');
  if (json !== undefined)
    layers.push({
      source: 'SLURM_PIPES_CONFIG_JSON',
      values: parseJsonObject(json, 'SLURM_PIPES_CONFIG_JSON'),
    });
  const payloadEnv = get('SLURM_PIPES_PAYLOAD_ENV_JSON');
  if (payloadEnv !== undefined) {
    layers.push({
      source: 'SLURM_PIPES_PAYLOAD_ENV_JSON',
      values: { payloadEnv: parseJsonObject(payloadEnv, 'SLURM_PIPES_PAYLOAD_ENV_JSON') },
    });
  }
  const values: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  for (const [name, path] of ENV_PATHS) {
    const v = get(name);
    if (v === undefined) continue;
    setPath(values, path, v);
    sources.set(path, name);
  }
  if (sources.size > 0) layers.push({ source: 'environment', values, sources });
  return layers;
}
