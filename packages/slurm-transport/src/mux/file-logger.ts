import { createWriteStream } from 'node:fs';
import { rename, stat } from 'node:fs/promises';
import type { Logger } from '../ssh/logger.js';

/** A {@link Logger} appending timestamped lines to a file; `close()` flushes it. */
export interface FileLogger extends Logger {
  close(): Promise<void>;
}

const ROTATE_BYTES = 4 * 1_048_576;

/** Opens `path` for appending (mode 0600), first moving a log over 4 MiB to `<path>.1`. */
export async function openFileLogger(path: string): Promise<FileLogger> {
  const info = await stat(path).catch(() => undefined);
  if (info !== undefined && info.size > ROTATE_BYTES) {
    await rename(path, `${path}.1`).catch(() => {});
  }
  const stream = createWriteStream(path, { flags: 'a', mode: 0o600 });
  stream.on('error', () => {});
  const write = (level: string, message: string) => {
    if (!stream.writableEnded) {
      stream.write(`${new Date().toISOString()} [${process.pid}] ${level} ${message}\n`);
    }
  };
  return {
    debug: (message) => write('debug', message),
    info: (message) => write('info', message),
    warn: (message) => write('warn', message),
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}
