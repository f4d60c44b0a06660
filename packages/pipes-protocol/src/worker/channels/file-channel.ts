import { appendFileSync } from 'node:fs';
import type { LineSink } from './line-writer.js';

/**
 * A sink appending each line to `path` with one `appendFileSync` call, so every line reaches the
 * file whole. Mirrors dagster_pipes.PipesFileMessageWriterChannel (open, append, close per message):
 * Dagster's file reader dies on a partial line.
 */
export function createFileSink(path: string): LineSink {
  return {
    kind: 'file',
    writeLine(line) {
      appendFileSync(path, line, 'utf8');
    },
  };
}
