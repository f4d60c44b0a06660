export * from './errors.js';
export * from './mux/index.js';
export * from './slurm/index.js';
export * from './ssh/index.js';
