// One layer of Slurm options (the queue defaults, or one asset's extra_slurm_opts) after
// validation. `null` means "explicitly not set": it clears what a lower layer set.
import {
  checkBoolean,
  checkDirectives,
  checkMemory,
  checkSignalBeforeTimeout,
  checkText,
  checkTimeLimit,
  checkWholeNumber,
  objectEntries,
  type SignalBeforeTimeout,
  unknownKeyError,
} from './option-checks.js';

export interface OptionLayer {
  partition?: string | null;
  nodes?: number;
  cpusPerTask?: number;
  gpusPerNode?: number;
  mem?: string | null;
  memPerCpu?: string | null;
  timeLimit?: { text: string; seconds: number };
  signalBeforeTimeout?: SignalBeforeTimeout | null;
  qos?: string | null;
  reservation?: string | null;
  account?: string | null;
  constraint?: string | null;
  exclusive?: boolean;
  extraDirectives?: string[];
}

type Reader = (layer: OptionLayer, path: string, value: unknown) => void;

const text =
  (field: 'partition' | 'qos' | 'reservation' | 'account' | 'constraint', example: string): Reader =>
  (layer, path, value) => {
    layer[field] = value === null ? null : (checkText(path, value, example) ?? null);
  };

/** How each user-facing key is read; `null` values reach the reader only for nullable fields. */
export const READERS = {
  partition: text('partition', 'compute'),
  qos: text('qos', 'normal'),
  reservation: text('reservation', 'maintenance'),
  account: text('account', 'project123'),
  constraint: text('constraint', 'skylake&ib'),
  nodes: (layer, path, value) => {
    layer.nodes = checkWholeNumber(path, value, 1, 2);
  },
  cpusPerTask: (layer, path, value) => {
    layer.cpusPerTask = checkWholeNumber(path, value, 1, 8);
  },
  gpusPerNode: (layer, path, value) => {
    layer.gpusPerNode = checkWholeNumber(path, value, 0, 1);
  },
  mem: (layer, path, value) => {
    layer.mem = value === null ? null : checkMemory(path, value);
  },
  memPerCpu: (layer, path, value) => {
    layer.memPerCpu = value === null ? null : checkMemory(path, value);
  },
  timeLimit: (layer, path, value) => {
    layer.timeLimit = checkTimeLimit(path, value);
  },
  signalBeforeTimeout: (layer, path, value) => {
    layer.signalBeforeTimeout = value === null ? null : checkSignalBeforeTimeout(path, value);
  },
  exclusive: (layer, path, value) => {
    layer.exclusive = checkBoolean(path, value);
  },
  extraDirectives: (layer, path, value) => {
    layer.extraDirectives = checkDirectives(path, value);
  },
} satisfies Record<keyof OptionLayer, Reader>;

// Fields where `null` carries meaning; for the others `null` reads as "absent" (Python's None).
const NULLABLE = new Set<keyof OptionLayer>([
  'partition',
  'qos',
  'reservation',
  'account',
  'constraint',
  'mem',
  'memPerCpu',
  'signalBeforeTimeout',
]);

/**
 * Validates `input` key by key against `keys` (user-facing key → layer field).
 * @throws {TypeError} for a non-object, an unknown key (with a suggestion), a wrong type, or
 *   `mem` together with `mem_per_cpu`.
 * @throws {RangeError} for a value of the right type but an invalid format or range.
 */
export function readOptionLayer(
  path: string,
  input: unknown,
  keys: Readonly<Record<string, keyof OptionLayer>>,
  aliases: Readonly<Record<string, string>>,
): OptionLayer {
  const layer: OptionLayer = Object.create(null);
  const known = Object.keys(keys);
  for (const [key, value] of objectEntries(path, input)) {
    const field = Object.hasOwn(keys, key) ? keys[key] : undefined;
    if (field === undefined) {
      throw unknownKeyError(path, key, value, known, aliases);
    }
    if (value === undefined || (value === null && !NULLABLE.has(field))) {
      continue;
    }
    READERS[field](layer, `${path}.${key}`, value);
  }
  const memKey = known.find((key) => keys[key] === 'mem');
  const memPerCpuKey = known.find((key) => keys[key] === 'memPerCpu');
  if (typeof layer.mem === 'string' && typeof layer.memPerCpu === 'string') {
    throw new TypeError(
      `${path}: ${memKey} (${JSON.stringify(layer.mem)}) and ${memPerCpuKey} (${JSON.stringify(layer.memPerCpu)}) are both set, but Slurm takes only one of --mem and --mem-per-cpu. Keep ${memKey} for memory per node, or ${memPerCpuKey} for memory per allocated CPU.`,
    );
  }
  return layer;
}
