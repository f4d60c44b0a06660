// Preloaded into the slurm-pipes bridge by the benchmark (`node --import ./usage-recorder.mjs cli`).
// The bridge starts its SSH multiplexing daemon with the same Node flags, so the daemon loads it
// too. At exit each process appends one JSON line to $SLURM_PIPES_BENCH_USAGE: its role, peak RSS
// and CPU time. Nothing of the bridge is changed or wrapped in another process, so its start-up
// and wall time are what a user gets.
//
// Peak RSS is VmHWM from /proc/self/status, the high-water mark of this process's own memory.
// getrusage's ru_maxrss is not used: Linux carries the parent's RSS at fork over to the child
// through exec, so a bridge forked by a 110 MB Dagster process would report at least 110 MB.
import { appendFileSync, readFileSync } from 'node:fs';

function peakRssBytes() {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match === null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

const file = process.env.SLURM_PIPES_BENCH_USAGE;
if (file) {
  const startedAt = Date.now() - process.uptime() * 1000;
  process.once('exit', (code) => {
    const usage = process.resourceUsage();
    const role = process.argv.includes('serve')
      ? 'daemon'
      : process.argv.includes('mux')
        ? 'mux-client'
        : 'bridge';
    const record = {
      role,
      pid: process.pid,
      tag: process.env.SLURM_PIPES_BENCH_TAG ?? null,
      exitCode: code,
      startedAt: startedAt / 1000,
      endedAt: Date.now() / 1000,
      peakRssBytes: peakRssBytes(),
      ruMaxRssBytes: usage.maxRSS * 1024,
      userCpuSeconds: usage.userCPUTime / 1e6,
      systemCpuSeconds: usage.systemCPUTime / 1e6,
    };
    try {
      appendFileSync(file, `${JSON.stringify(record)}\n`);
    } catch {
      // Never let the measurement change the bridge's exit.
    }
  });
}
