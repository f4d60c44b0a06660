import * as z from 'zod';
import { PipesException } from './exception.js';
import { PipesMetadata } from './metadata.js';

/** Field naming the protocol version in every message. */
export const PIPES_PROTOCOL_VERSION_FIELD = '__dagster_pipes_version';
/** The protocol version this package speaks (the protocol's, not a package version). */
export const PIPES_PROTOCOL_VERSION = '0.1';

/** The seven message methods real Dagster handles. */
export const PIPES_METHODS = [
  'opened',
  'closed',
  'log',
  'report_asset_materialization',
  'report_asset_check',
  'report_custom_message',
  'log_external_stream',
] as const;
export type PipesMethod = (typeof PIPES_METHODS)[number];

/** Log levels the host accepts, case-insensitively, with Python logging's aliases. */
export const PIPES_LOG_LEVELS = ['critical', 'error', 'warning', 'info', 'debug', 'fatal', 'warn'] as const;

/** The envelope (`PipesMessage`): method and params, params checked per method by {@link PipesParamsByMethod}. */
export const PipesMessageEnvelope = z.looseObject({
  [PIPES_PROTOCOL_VERSION_FIELD]: z.string().optional(),
  method: z.string(),
  params: z.record(z.string(), z.unknown()).nullable(),
});

// The Python host calls handlers with **params: every required key, no unknown key.
export const PipesParamsByMethod = {
  opened: z.strictObject({ extras: z.record(z.string(), z.unknown()) }).nullable(),
  closed: z.strictObject({ exception: PipesException.nullable().optional() }).nullable(),
  log: z.strictObject({
    message: z.string(),
    level: z
      .string()
      .refine((l) => (PIPES_LOG_LEVELS as readonly string[]).includes(l.toLowerCase()), {
        message: `level must be one of ${PIPES_LOG_LEVELS.join(', ')} (any case)`,
      })
      .optional(),
  }),
  report_asset_materialization: z.strictObject({
    asset_key: z.string(),
    data_version: z.string().nullable(),
    metadata: PipesMetadata.nullable(),
  }),
  report_asset_check: z.strictObject({
    asset_key: z.string(),
    check_name: z.string(),
    passed: z.boolean(),
    metadata: PipesMetadata.nullable(),
    severity: z.enum(['WARN', 'ERROR']),
  }),
  report_custom_message: z.strictObject({ payload: z.unknown() }),
  log_external_stream: z.strictObject({
    stream: z.enum(['stdout', 'stderr']),
    text: z.string(),
    extras: z.record(z.string(), z.unknown()).optional(),
  }),
} satisfies Record<PipesMethod, z.ZodType>;

export type PipesParams<M extends PipesMethod> = z.infer<(typeof PipesParamsByMethod)[M]>;

/** A validated message: the method and its params, discriminated by `method`. */
export type PipesMessage = {
  [M in PipesMethod]: { [PIPES_PROTOCOL_VERSION_FIELD]: string; method: M; params: PipesParams<M> };
}[PipesMethod];
