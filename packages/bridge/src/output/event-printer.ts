import type { PipesMetadata, PipesReaderEvent } from '@slurm-pipes/pipes-protocol';

/** Renders session events for a person (text) or a program (`--json`: one JSON object per line). */
export interface EventPrinter {
  event(event: PipesReaderEvent): void;
  /** The closing line: how the payload ended. */
  summary(summary: RunSummary): void;
}

/** The outcome of a standalone run. */
export interface RunSummary {
  ok: boolean;
  exit: string;
  materializations: number;
  checks: number;
  failedChecks: number;
  protocolErrors: number;
}

type Write = (line: string) => void;

/** JSON lines: `{"event":"message","line":n,"message":{...}}`, `{"event":"protocol_error",...}`, `{"event":"summary",...}`. */
export function jsonPrinter(write: Write): EventPrinter {
  return {
    event(event) {
      if (event.kind === 'message') write(`{"event":"message","line":${event.line},"message":${event.raw}}`);
      else if (event.kind === 'protocol-error') {
        write(
          JSON.stringify({
            event: 'protocol_error',
            line: event.line,
            code: event.error.code,
            error: event.error.message,
            raw: event.raw,
          }),
        );
      } else write(JSON.stringify({ event: 'output', stream: event.stream, text: event.text }));
    },
    summary(summary) {
      write(JSON.stringify({ event: 'summary', ...summary }));
    },
  };
}

function formatMetadata(metadata: PipesMetadata | null): string {
  if (metadata === null) return '';
  return Object.entries(metadata)
    .map(([k, v]) => {
      const shown =
        typeof v.raw_value === 'string'
          ? v.raw_value
          : v.type === 'float' && Number.isInteger(v.raw_value)
            ? (v.raw_value as number).toFixed(1)
            : JSON.stringify(v.raw_value);
      const clipped = shown.length > 80 ? `${shown.slice(0, 77)}...` : shown;
      return `\n      ${k} (${v.type}): ${clipped}`;
    })
    .join('');
}

/** Human-readable lines, one per event. */
export function textPrinter(write: Write): EventPrinter {
  return {
    event(event) {
      if (event.kind === 'protocol-error') {
        write(`  ! line ${event.line}: ${event.error.message}`);
        return;
      }
      if (event.kind === 'output') {
        write(`  ${event.stream}: ${event.text}`);
        return;
      }
      const { message } = event;
      switch (message.method) {
        case 'opened':
          write('  opened');
          break;
        case 'closed':
          write(
            message.params?.exception
              ? `  closed with ${message.params.exception.message.trimEnd()}`
              : '  closed',
          );
          break;
        case 'log':
          write(`  log ${(message.params.level ?? 'info').toUpperCase()}: ${message.params.message}`);
          break;
        case 'report_asset_materialization': {
          const p = message.params;
          const version = p.data_version === null ? '' : ` data_version=${p.data_version}`;
          write(`  materialized ${p.asset_key}${version}${formatMetadata(p.metadata)}`);
          break;
        }
        case 'report_asset_check': {
          const p = message.params;
          write(
            `  check ${p.asset_key}:${p.check_name} ${p.passed ? 'passed' : `FAILED (${p.severity})`}${formatMetadata(p.metadata)}`,
          );
          break;
        }
        case 'report_custom_message':
          write(`  custom message ${JSON.stringify(message.params.payload)}`);
          break;
        case 'log_external_stream':
          write(`  ${message.params.stream}: ${message.params.text.trimEnd()}`);
          break;
      }
    },
    summary(s) {
      const checks = s.checks === 0 ? '' : `, ${s.checks} check(s) (${s.failedChecks} failed)`;
      const errors = s.protocolErrors === 0 ? '' : `, ${s.protocolErrors} invalid message(s)`;
      write(
        `${s.ok ? 'succeeded' : 'FAILED'}: payload ${s.exit}; ${s.materializations} materialization(s)${checks}${errors}`,
      );
    },
  };
}
