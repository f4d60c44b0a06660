import { SlurmTransportError } from '../errors.js';

/** Resolves after `ms`, or rejects with `ERR_ABORTED` as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The error every aborted operation of this package rejects with; `cause` is the signal's reason. */
export function abortError(signal: AbortSignal | undefined, what = 'operation'): SlurmTransportError {
  return new SlurmTransportError('ERR_ABORTED', `The ${what} was aborted.`, { cause: signal?.reason });
}

/**
 * The error an operation rejects with once `signal` aborted: the signal's reason when it is
 * already a `SlurmTransportError` (e.g. the `ERR_SSH_TIMEOUT` of {@link operationSignal}), else
 * an `ERR_ABORTED` error.
 */
export function signalError(signal: AbortSignal | undefined, what = 'operation'): SlurmTransportError {
  const reason: unknown = signal?.reason;
  return reason instanceof SlurmTransportError ? reason : abortError(signal, what);
}

/** A signal that aborts when `signal` does or, with reason `timeoutError()`, after `timeoutMs`. */
export interface OperationSignal {
  signal: AbortSignal | undefined;
  /** Stops the timer and unlinks from the caller's signal. */
  dispose(): void;
}

/** Combines a caller's `signal` and `timeoutMs` into one {@link OperationSignal}. */
export function operationSignal(
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
  timeoutError: () => SlurmTransportError,
): OperationSignal {
  if (timeoutMs === undefined) {
    return { signal, dispose() {} };
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`timeoutMs must be a positive number, got ${String(timeoutMs)}`);
  }
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  if (signal?.aborted) {
    onAbort();
  } else {
    signal?.addEventListener('abort', onAbort, { once: true });
  }
  const timer = setTimeout(() => {
    controller.abort(timeoutError());
  }, timeoutMs);
  timer.unref();
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** `signal.aborted`, as a call so TypeScript does not narrow it across awaits. */
export function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Waits for `promise` unless `signal` aborts first; `onLate` receives a value that arrives after that. */
export function raceSignal<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  onLate?: (value: T) => void,
): Promise<T> {
  if (signal === undefined) {
    return promise;
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const onAbort = () => {
      settled = true;
      reject(signalError(signal));
    };
    if (signal.aborted) {
      onAbort();
    } else {
      signal.addEventListener('abort', onAbort, { once: true });
    }
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (settled) {
          onLate?.(value);
        } else {
          resolve(value);
        }
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (!settled) {
          reject(error);
        }
      },
    );
  });
}
