import type { Writable } from 'node:stream';
import { PipesError } from '../../errors.js';
import type { PipesRawParams } from '../params-loader.js';
import { createFileSink } from './file-channel.js';
import { createLineChannel, type LineSink } from './line-writer.js';
import type { PipesMessageChannel } from './message-channel.js';
import { type StdioCapture, startStdioCapture } from './stdio-capture.js';
import { createBufferedStreamSink, createStreamSink } from './stream-channel.js';

/** Options for {@link openMessageWriterChannel}. */
export interface MessageWriterChannelOptions {
  /** Stream for `stdio`/`buffered_stdio` `"stdout"`, and stdout to capture. @default process.stdout */
  stdout?: Writable;
  /** Stream for `"stderr"`, and stderr to capture. @default process.stderr */
  stderr?: Writable;
  /**
   * Capture this process's stdout/stderr as `log_external_stream` messages (file channel only,
   * as in Python). @default the truthiness of the params' `include_stdio_in_messages`
   */
  captureStdio?: boolean;
  /** How often captured text is sent. @default 1000 */
  captureIntervalMs?: number;
}

const INCLUDE_STDIO_IN_MESSAGES_KEY = 'include_stdio_in_messages';

function pickStream(params: PipesRawParams, key: string, options: MessageWriterChannelOptions): Writable {
  const value = params[key];
  if (value !== 'stdout' && value !== 'stderr') {
    throw new PipesError(
      'ERR_PIPES_INVALID_PARAMS',
      `Invalid value for key "${key}" in the message params, expected "stderr" or "stdout" but received ${JSON.stringify(value)}.`,
    );
  }
  return value === 'stdout' ? (options.stdout ?? process.stdout) : (options.stderr ?? process.stderr);
}

/**
 * Opens the channel the decoded message params (`DAGSTER_PIPES_MESSAGES`) describe. Mirrors
 * dagster_pipes.PipesDefaultMessageWriter: keys checked in the order `path`, `stdio`,
 * `buffered_stdio`; unknown extra keys are ignored.
 * @throws {PipesError} `ERR_PIPES_INVALID_PARAMS` when no known key is present or its value is of
 * the wrong type.
 */
export function openMessageWriterChannel(
  params: PipesRawParams,
  options: MessageWriterChannelOptions = {},
): PipesMessageChannel {
  let sink: LineSink;
  let captureAllowed = false;
  if ('path' in params) {
    const path = params.path;
    if (typeof path !== 'string') {
      throw new PipesError(
        'ERR_PIPES_INVALID_PARAMS',
        `Message params key "path" must be a string, got ${JSON.stringify(path)}.`,
      );
    }
    sink = createFileSink(path);
    captureAllowed = true;
  } else if ('stdio' in params) {
    sink = createStreamSink(pickStream(params, 'stdio', options));
  } else if ('buffered_stdio' in params) {
    sink = createBufferedStreamSink(pickStream(params, 'buffered_stdio', options));
  } else {
    throw new PipesError(
      'ERR_PIPES_INVALID_PARAMS',
      `Invalid params for PipesDefaultMessageWriter, expected key "path", "stdio" or "buffered_stdio", received ${JSON.stringify(params)}. The orchestration side's message reader expects a message writer this package does not implement.`,
    );
  }

  const capture = options.captureStdio ?? Boolean(params[INCLUDE_STDIO_IN_MESSAGES_KEY]);
  if (!capture || !captureAllowed) return createLineChannel(sink);

  let stdio: StdioCapture | undefined;
  const channel = createLineChannel(sink, {
    beforeWrite: () => stdio?.flush(),
    beforeClose: () => stdio?.stop(),
  });
  const streams = {
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
  };
  stdio = startStdioCapture({
    send: (message) => channel.write(message),
    streams,
    ...(options.captureIntervalMs === undefined ? {} : { intervalMs: options.captureIntervalMs }),
  });
  return channel;
}
