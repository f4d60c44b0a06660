export * from './errors.js';
export * from './slurm/index.js';
export { shellJoin, shellQuote } from './ssh/shell-quote.js';
export type { ExecOptions, ExecResult, RemoteExecutor } from './ssh/remote-executor.js';
