import {
  type DecodedLine,
  fileLineEvent,
  type PipesLogLevel,
  PipesResultsCollector,
} from '@slurm-pipes/pipes-protocol';
import { describe, expect, it } from 'vitest';
import { messageLine } from './helpers/run-fake-worker.js';

const sources = {
  injector: { name: 'EnvContextInjector', debugText: 'env text' },
  reader: { name: 'FileMessageReader', debugText: 'file text' },
};

function collectLines(lines: string[]): PipesResultsCollector {
  const collector = new PipesResultsCollector();
  lines.forEach((text, i) => {
    collector.add(fileLineEvent({ kind: 'line', text, line: i + 1 } satisfies DecodedLine));
  });
  return collector;
}

describe('PipesResultsCollector', () => {
  it('collects every message kind', () => {
    const exception = { message: 'E: x\n', stack: [], name: 'E', cause: null, context: null };
    const metadata = { rows: { raw_value: 3, type: 'int' } };
    const { results } = collectLines([
      messageLine('opened', { extras: { k: 1 } }),
      messageLine('log', { message: 'm', level: 'WARNING' }),
      messageLine('report_asset_materialization', { asset_key: 'a/b\\/c', data_version: 'v1', metadata }),
      messageLine('report_asset_check', {
        asset_key: 'a',
        check_name: 'c',
        passed: true,
        metadata: null,
        severity: 'WARN',
      }),
      messageLine('report_custom_message', { payload: { any: ['thing'] } }),
      messageLine('log_external_stream', { stream: 'stderr', text: 'oops\n' }),
      'garbage',
      messageLine('closed', { exception }),
    ]);
    expect(results).toEqual({
      opened: { extras: { k: 1 } },
      closed: { exception },
      materializations: [{ assetKey: 'a/b\\/c', assetKeyPath: ['a', 'b/c'], dataVersion: 'v1', metadata }],
      checks: [
        {
          assetKey: 'a',
          assetKeyPath: ['a'],
          checkName: 'c',
          passed: true,
          severity: 'WARN',
          metadata: null,
        },
      ],
      customMessages: [{ any: ['thing'] }],
      logs: [{ level: 'warning', message: 'm' }],
      externalStreams: [{ stream: 'stderr', text: 'oops\n', extras: {} }],
      outputs: [],
      protocolErrors: [
        expect.objectContaining({
          raw: 'garbage',
          line: 7,
          message: expect.stringMatching(/^Message line is not JSON/),
        }),
      ],
      warnings: [],
      counts: {
        messages: 7,
        materializations: 1,
        checks: 1,
        failedChecks: 0,
        customMessages: 1,
        logs: 1,
        protocolErrors: 1,
      },
    });
  });

  it.each<[string | undefined, PipesLogLevel]>([
    ['DEBUG', 'debug'],
    ['INFO', 'info'],
    ['Warning', 'warning'],
    ['warn', 'warning'],
    ['ERROR', 'error'],
    ['CRITICAL', 'critical'],
    ['FATAL', 'critical'],
    [undefined, 'info'],
  ])('normalises level %s to %s', (level, expected) => {
    const { results } = collectLines([
      messageLine('log', level === undefined ? { message: 'm' } : { message: 'm', level }),
    ]);
    expect(results.logs).toEqual([{ level: expected, message: 'm' }]);
  });

  it('reads closed with null params (as Rust sends) as success', () => {
    expect(collectLines([messageLine('closed', null)]).results.closed).toEqual({ exception: null });
  });

  it('warns when nothing was received, naming injector and reader', () => {
    expect(new PipesResultsCollector().finish(sources).warnings).toEqual([
      {
        code: 'no-opened',
        message:
          '[pipes] did not receive any messages from external process. Check stdout / stderr logs from the external process if possible.\nEnvContextInjector: env text\nFileMessageReader: file text\n',
      },
    ]);
  });

  it('warns when opened but not closed, once', () => {
    const collector = collectLines([messageLine('opened', { extras: {} })]);
    collector.finish(sources);
    expect(collector.finish(sources).warnings.map((w) => w.code)).toEqual(['no-closed']);
  });

  it('warns about, and still records, a message after closed', () => {
    const { results } = collectLines([
      messageLine('opened', { extras: {} }),
      messageLine('closed', {}),
      messageLine('log_external_stream', { stream: 'stdout', text: 'late', extras: {} }),
    ]);
    expect(results.externalStreams).toHaveLength(1);
    expect(results.warnings).toEqual([
      {
        code: 'message-after-closed',
        message: expect.stringMatching(/^\[pipes\] unexpected message received after closed: `/),
      },
    ]);
  });
});
