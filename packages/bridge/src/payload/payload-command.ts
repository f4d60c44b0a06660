import { accessSync, constants, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { BridgeError } from '../errors.js';

/** What kind of program a payload is, decided by its file extension. */
export type PayloadKind = 'python' | 'node' | 'typescript' | 'command';

/** How to start a payload: its kind and the full argv. */
export interface PayloadCommand {
  kind: PayloadKind;
  /** Absolute path of the payload file, or the command name for a command on PATH. */
  path: string;
  argv: string[];
}

/** Options for {@link resolvePayloadCommand}. */
export interface PayloadCommandOptions {
  /** Interpreter for `.py`. @default 'python3' */
  python?: string;
  /** Node.js for `.js`/`.mjs`/`.cjs`/`.ts`/`.mts`. @default process.execPath */
  node?: string;
  /** Extra Node flags for JS/TS payloads. @default the `--conditions` flags the bridge runs with */
  nodeArgs?: string[];
  /** Working directory relative paths resolve against. @default process.cwd() */
  cwd?: string;
}

const KIND_BY_EXTENSION: Record<string, PayloadKind> = {
  '.py': 'python',
  '.js': 'node',
  '.mjs': 'node',
  '.cjs': 'node',
  '.ts': 'typescript',
  '.mts': 'typescript',
  '.cts': 'typescript',
};

// TypeScript payloads run through tsx, resolved from the bridge's own dependencies so a payload
// directory needs no install of its own.
function tsxLoaderUrl(): string {
  return import.meta.resolve('tsx');
}

/**
 * Turns `slurm-pipes run -- <payload> [args…]` into the argv that starts the payload.
 * @throws {BridgeError} `ERR_BRIDGE_PAYLOAD` when the payload file is missing or not runnable.
 */
export function resolvePayloadCommand(
  payload: readonly string[],
  options: PayloadCommandOptions = {},
): PayloadCommand {
  const [first, ...args] = payload;
  if (first === undefined || first === '') {
    throw new BridgeError(
      'ERR_BRIDGE_USAGE',
      'No payload given. Usage: slurm-pipes run [options] -- <payload> [args…]',
    );
  }
  const kind = KIND_BY_EXTENSION[extname(first).toLowerCase()] ?? 'command';
  const looksLikePath = kind !== 'command' || first.includes('/');
  const path = looksLikePath ? resolve(options.cwd ?? process.cwd(), first) : first;
  if (looksLikePath) checkFile(path, kind);

  const node = options.node ?? process.execPath;
  const nodeArgs = options.nodeArgs ?? process.execArgv.filter((a) => a.startsWith('--conditions'));
  switch (kind) {
    case 'python':
      return { kind, path, argv: [options.python ?? 'python3', path, ...args] };
    case 'node':
      return { kind, path, argv: [node, ...nodeArgs, path, ...args] };
    case 'typescript':
      return { kind, path, argv: [node, ...nodeArgs, '--import', tsxLoaderUrl(), path, ...args] };
    case 'command':
      return { kind, path, argv: [path, ...args] };
  }
}

function checkFile(path: string, kind: PayloadKind): void {
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new BridgeError(
      'ERR_BRIDGE_PAYLOAD',
      `Payload ${path} does not exist. Check the path (relative paths resolve against ${process.cwd()}).`,
    );
  }
  if (!isFile) throw new BridgeError('ERR_BRIDGE_PAYLOAD', `Payload ${path} is not a file.`);
  if (kind === 'command') {
    try {
      accessSync(path, constants.X_OK);
    } catch {
      throw new BridgeError(
        'ERR_BRIDGE_PAYLOAD',
        `Payload ${path} is not executable and its extension is not one slurm-pipes runs with an interpreter (.py, .js, .mjs, .cjs, .ts, .mts). Make it executable (chmod +x) or rename it.`,
      );
    }
  }
}
