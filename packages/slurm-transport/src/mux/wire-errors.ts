import * as z from 'zod';
import {
  SlurmTransportError,
  type SlurmTransportErrorCode,
  type SlurmTransportErrorDetails,
} from '../errors.js';

const LEVELS = [
  'client-socket',
  'client-timeout',
  'client-authentication',
  'client-dns',
  'client-ssh',
  'protocol',
] as const;

/** An error as it crosses the daemon socket: `TypeError`/`RangeError` keep their class, others become codes. */
export const WireError = z.strictObject({
  name: z.enum(['SlurmTransportError', 'TypeError', 'RangeError']),
  // Any code of errors.ts: daemon and client run the same package version (the protocol
  // version is in the socket name), so a list here would only be a second copy to keep in sync.
  code: z
    .string()
    .regex(/^ERR_[A-Z0-9_]+$/)
    .transform((code) => code as SlurmTransportErrorCode)
    .optional(),
  message: z.string(),
  level: z.enum(LEVELS).optional(),
  command: z.string().optional(),
  exitCode: z.number().int().nullable().optional(),
  signal: z.string().nullable().optional(),
  stdout: z.string().optional(),
  stderr: z.string().optional(),
});
export type WireError = z.infer<typeof WireError>;

/** Turns anything thrown in the daemon into a {@link WireError}; unknown errors become `ERR_MUX`. */
export function toWireError(error: unknown): WireError {
  if (error instanceof SlurmTransportError) {
    const wire: WireError = { name: 'SlurmTransportError', code: error.code, message: error.message };
    if (error.level !== undefined) wire.level = error.level;
    if (error.command !== undefined) wire.command = error.command;
    if (error.exitCode !== undefined) wire.exitCode = error.exitCode;
    if (error.signal !== undefined) wire.signal = error.signal;
    if (error.stdout !== undefined) wire.stdout = error.stdout;
    if (error.stderr !== undefined) wire.stderr = error.stderr;
    return wire;
  }
  if (error instanceof TypeError || error instanceof RangeError) {
    return { name: error instanceof TypeError ? 'TypeError' : 'RangeError', message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    name: 'SlurmTransportError',
    code: 'ERR_MUX',
    message: `The multiplexing daemon failed: ${message}`,
  };
}

/** Rebuilds on the client the error the daemon sent. */
export function fromWireError(wire: WireError): Error {
  if (wire.name === 'TypeError') return new TypeError(wire.message);
  if (wire.name === 'RangeError') return new RangeError(wire.message);
  const details: SlurmTransportErrorDetails = {};
  if (wire.level !== undefined) details.level = wire.level;
  if (wire.command !== undefined) details.command = wire.command;
  if (wire.exitCode !== undefined) details.exitCode = wire.exitCode;
  if (wire.signal !== undefined) details.signal = wire.signal;
  if (wire.stdout !== undefined) details.stdout = wire.stdout;
  if (wire.stderr !== undefined) details.stderr = wire.stderr;
  return new SlurmTransportError(wire.code ?? 'ERR_MUX', wire.message, details);
}

/** An `ERR_MUX` error: the daemon could not be reached, or a frame broke the protocol. */
export function muxError(message: string, cause?: unknown): SlurmTransportError {
  return new SlurmTransportError('ERR_MUX', message, cause === undefined ? {} : { cause });
}
