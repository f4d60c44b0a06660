export * from './errors.js';
export * from './ssh/index.js';
export * from './slurm/index.js';
