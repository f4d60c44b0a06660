// What a test may attach to its result in vitest's JSON report (`task.meta`):
// scripts/reliability-report.mjs prints `figures` beside the scenario in docs/reliability.md.
import 'vitest';

declare module 'vitest' {
  interface TaskMeta {
    /** Measured figures, one line, e.g. "bridge RSS 60 MiB after 100,000 messages, peak 64 MiB". */
    figures?: string;
  }
}
