// Writes docs/reliability.md: every fault-injection, reattach, bad-input, security and load
// scenario, what must hold, and what the test suite observed in the vitest JSON report given
// (default .vitest-results.json). A scenario with no test yet says so; nothing is assumed.
// Usage: node scripts/reliability-report.mjs [report.json] [out.md]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const [reportPath = '.vitest-results.json', outPath = 'docs/reliability.md'] = process.argv.slice(2);
const report = JSON.parse(readFileSync(reportPath, 'utf8'));

// [section, scenario, what must hold, file fragment, test-name pattern]; several tests may match.
const SCENARIOS = [
  [
    'Exactly-once relay',
    '100,000 messages of every kind; SSH cut twice, sshd restarted',
    'each message once, in order; step succeeds',
    'slurm-exactly-once',
    /messages once and in order/,
  ],
  [
    'Exactly-once relay',
    'remote tail cut mid-stream, resumed by byte offset',
    'every byte once, in order, partial lines and split UTF-8 intact',
    'real-sshd',
    /tail|resume/i,
  ],
  [
    'Exactly-once relay',
    'a million messages through the local relay',
    'in order, under a 48 MB heap limit',
    'local-relay-memory',
    /1,000,000/,
  ],
  [
    'No resubmission',
    'bridge killed with SIGKILL while its job runs',
    'job keeps running; re-launch reattaches; sbatch never called again',
    'slurm-reattach',
    /SIGKILL/,
  ],
  [
    'No resubmission',
    'bridge stopped with SIGTERM (Dagster restart/deploy)',
    'job keeps running, channel closed saying so; re-launch reattaches',
    'slurm-reattach',
    /SIGTERM/,
  ],
  [
    'No resubmission',
    'job finished while nobody watched',
    'collected on re-launch (messages, metrics) without sbatch',
    'slurm-reattach',
    /finished while nobody watched/,
  ],
  [
    'No resubmission',
    'bridge died between sbatch and job.json',
    'job found by its unique name; not submitted again',
    'slurm-reattach',
    /between sbatch and job\.json/,
  ],
  [
    'No resubmission',
    "Terminate in Dagster's UI (SIGINT)",
    'job cancelled; sacct shows CANCELLED',
    'slurm-mode',
    /terminated, and reports CANCELLED/,
  ],
  [
    'No resubmission',
    'stopped before submission',
    'nothing submitted',
    'slurm-mode',
    /stopped before submission/,
  ],
  [
    'No resubmission',
    'queue limit reached (transport)',
    'the job is left alone (no scancel)',
    'slurm-commands',
    /queue timeout for a held job/,
  ],
  [
    'No resubmission',
    'run limit reached (bridge)',
    'job keeps running unless slurm.cancelOnTimeout; a re-launch collects it',
    'slurm-reattach',
    /run limit/,
  ],
  [
    "Cluster's own faults",
    'job FAILED',
    'step fails with state, exit code, reason, fix and stderr tail',
    'slurm-mode',
    /fails the step with state/,
  ],
  [
    "Cluster's own faults",
    'Dagster step of a failed job',
    "Dagster's step fails with the state and the payload's exception",
    'dagster-slurm',
    /failed job/,
  ],
  [
    "Cluster's own faults",
    'slurmd restarted, sshd sessions killed, sshd restarted',
    'the cluster recovers; the harness can inject each fault',
    'cluster.test',
    /injects faults/,
  ],
  [
    "Cluster's own faults",
    'job exceeds its memory (--mem)',
    'step fails naming OUT_OF_MEMORY and the fix',
    'slurm-faults-limits',
    /exceeding its memory/,
  ],
  [
    "Cluster's own faults",
    'job reaches its time limit',
    'step fails naming TIMEOUT and the fix',
    'slurm-faults-limits',
    /time limit with TIMEOUT/,
  ],
  [
    "Cluster's own faults",
    'signal_before_timeout (Node worker, Python payload)',
    'payload signalled before walltime; worker API checkpoints and reports',
    'slurm-faults-limits',
    /signal_before_timeout|checkpoint on the signal/,
  ],
  [
    "Cluster's own faults",
    'requeue while running (scontrol requeue; preemption with PreemptMode=REQUEUE is the same)',
    'same job id followed through the rerun; every message once, in order; progress while waiting',
    'slurm-faults-cluster',
    /scontrol requeue while running/,
  ],
  [
    "Cluster's own faults",
    'requeued and held (scontrol requeuehold)',
    'says the job is held and how to release it; finishes on release',
    'slurm-faults-cluster',
    /requeuehold/,
  ],
  [
    "Cluster's own faults",
    'node lost mid-job (slurmd and job killed)',
    'requeued: rerun followed; --no-requeue: fails naming NODE_FAIL and the fix, messages kept',
    'slurm-faults-cluster',
    /node lost mid-job/,
  ],
  [
    "Cluster's own faults",
    'full remote disk (while staging, while the payload writes)',
    'fails naming ENOSPC, the space left and the fix; messages written before relayed',
    'slurm-faults-cluster',
    /full remote disk|fills the remote disk/,
  ],
  [
    'Bad input',
    'invalid lines among valid messages (not JSON, unknown method)',
    'reported by line; every valid message still relayed',
    'cli-standalone',
    /invalid lines/,
  ],
  [
    'Bad input',
    'invalid configuration (unknown field, bad mode, bad port)',
    'error names field, value, source; secrets hidden',
    'config.test',
    /names the field|unknown fields|never echoes a password/,
  ],
  [
    'Bad input',
    'missing payload',
    'clear error with code, reaches Dagster in closed',
    'cli-relay',
    /payload is missing/,
  ],
  [
    'Bad input',
    'sbatch rejections (unknown partition, unsatisfiable request)',
    'ERR_SLURM_SUBMIT with sbatch reason and the fix, or blocked reason',
    'slurm-commands',
    /invalid partition|no node can satisfy/,
  ],
  [
    'Bad input',
    'unknown or changed host key',
    "refused under 'strict'; message names known_hosts and the fix",
    'ssh-connection',
    /unknown host under 'strict'|host key/i,
  ],
  [
    'Bad input',
    'wrong credentials',
    'ERR_SSH_AUTH naming the methods tried, no secret',
    'ssh-connection',
    /auth|password|passphrase/i,
  ],
  [
    'Bad input',
    'malformed, truncated, oversized (10 MiB) and unknown message lines, invalid metadata (local and Slurm)',
    'each bad line an ERROR log with its line, problem, code and fix; every valid message around it relayed',
    'bad-input',
    /each bad line/,
  ],
  [
    'Bad input',
    'payload killed in the middle of writing a message (local and Slurm)',
    'everything reported before it kept; the step fails naming how it ended',
    'bad-input',
    /killed in the middle|died in the middle/,
  ],
  [
    'Bad input',
    'invalid or contradictory configuration, missing or unusable payload, under a Pipes host',
    'exit code and error code; field, source and fix named; same text in closed; secrets never echoed',
    'bad-input-config',
    /./,
  ],
  [
    'Bad input',
    'payload or extra file named like a file slurm-pipes keeps in the run directory',
    'refused before upload, naming the file and the fix',
    'bad-input-reserved-names',
    /./,
  ],
  [
    'Bad input',
    'sbatch refusals and hopeless requests, end to end',
    "ERR_SLURM_SUBMIT with sbatch's reason and the fix; a hopeless pending job explained",
    'bad-input.test',
    /sbatch’s refusal|hopeless queue state/,
  ],
  [
    'Bad input',
    'unreachable host, unresolvable name, unknown host key, wrong key, password or passphrase, end to end',
    'fails fast with ERR_SSH_* naming the cause and the fix; no secret echoed; no daemon left',
    'bad-input.test',
    /unreachable host|does not resolve|unknown host key|ERR_SSH_AUTH|ERR_SSH_CONFIG/,
  ],
  [
    'Security',
    'hostile arguments (quotes, $(...), backticks, newlines, non-ASCII)',
    'reach the cluster as data; nothing runs',
    'real-sshd',
    /hostile arguments/,
  ],
  ['Security', 'hostile values in the job script', 'quoted; nothing executes', 'bash-launcher', /./],
  ['Security', 'secrets in context/job files', 'refused before anything is written', 'secret-guard', /./],
  [
    'Security',
    'multiplexing socket',
    'directory 0700, socket and token 0600; no or wrong token refused',
    'mux-daemon',
    /0700|token/,
  ],
  [
    'Security',
    'hostile asset key, partition, run id, extras, file names, arguments, env, remote base (end to end)',
    'reach the cluster as data (a canary proves nothing ran); unusable remote bases refused before connecting',
    'security.test',
    /asset key, partition|refuses a remote base/,
  ],
  [
    'Security',
    'run tree on the cluster',
    'every directory 0700, every file 0600 (job.sh 0700), cache included',
    'security.test',
    /0700 and every file 0600/,
  ],
  [
    'Security',
    'passwords and key passphrases while a step runs',
    'never in any argv (ps), logs, errors, context or remote files',
    'security.test',
    /no secret in any argv/,
  ],
  [
    'Security',
    'changed or unknown host key, end to end',
    "refused under 'strict' and 'accept-new' naming the known_hosts line; accepted only with 'off'",
    'security.test',
    /changed key|accept-new records/,
  ],
  [
    'Security',
    'multiplexing daemon, end to end',
    'private directory, token required, other users kept out; an unsafe directory refused and said why',
    'security.test',
    /is private|refuses a directory others/,
  ],
  [
    'Load',
    'twenty assets in one multiprocess Dagster run',
    'all succeed over one SSH authentication (sshd log)',
    'dagster-slurm',
    /twenty assets/,
  ],
  [
    'Load',
    '20 concurrent commands with MaxSessions 3',
    'all succeed; extra channels queue',
    'real-sshd',
    /MaxSessions/,
  ],
  [
    'Load',
    'fifty concurrent steps with MaxSessions 10',
    'all succeed over one connection (one daemon login)',
    'slurm-load',
    /concurrent steps/,
  ],
  [
    'Load',
    'a 1,000,000-message stream from one Slurm job',
    "each message once, in order; the bridge's memory flat (end under twice the RSS after 100,000)",
    'slurm-load',
    /memory flat/,
  ],
];

const tests = [];
for (const file of report.testResults ?? []) {
  for (const t of file.assertionResults ?? [])
    tests.push({
      file: file.name,
      name: t.fullName,
      status: t.status,
      ms: t.duration ?? 0,
      figures: t.meta?.figures,
    });
}

const rows = SCENARIOS.map(([section, scenario, must, file, pattern]) => {
  if (file === null) return { section, scenario, must, observed: 'not covered by a test yet', ok: null };
  const matched = tests.filter((t) => t.file.includes(file) && pattern.test(t.name));
  if (matched.length === 0) return { section, scenario, must, observed: 'no test ran', ok: false };
  const failed = matched.filter((t) => t.status === 'failed');
  const passed = matched.filter((t) => t.status === 'passed');
  const secs = (matched.reduce((s, t) => s + t.ms, 0) / 1000).toFixed(1);
  const observed =
    failed.length > 0
      ? `FAILED (${failed.length} of ${matched.length} tests)`
      : passed.length === 0
        ? `skipped (${matched.length} tests)`
        : `held (${passed.length} test${passed.length > 1 ? 's' : ''}, ${secs} s)`;
  // Figures a test measured (vitest's task.meta.figures, see test/helpers/task-meta.d.ts).
  const figures = matched.flatMap((t) => (t.status === 'passed' && t.figures ? [t.figures] : []));
  const shown = figures.length === 0 ? observed : `${observed}: ${figures.join('; ')}`;
  return { section, scenario, must, observed: shown, ok: failed.length === 0 && passed.length > 0 };
});

const lines = [
  '# Reliability',
  '',
  'Every scenario the fault-injection, reattach, bad-input, security and load suites cover, what',
  'must hold, and what the last test run observed. Regenerate with `npm run reliability` (it runs',
  'the suites, then `node scripts/reliability-report.mjs`); `.ci/run` regenerates it from the full run.',
  '',
  `Run: ${new Date(report.startTime ?? Date.now()).toISOString()}, ${report.numPassedTests} passed, ${report.numFailedTests} failed.`,
  '',
  '| area | scenario | must hold | observed |',
  '| --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.section} | ${r.scenario} | ${r.must} | ${r.observed} |`),
  '',
];
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, lines.join('\n'));
const bad = rows.filter((r) => r.ok === false);
console.log(
  `reliability: ${rows.filter((r) => r.ok).length} held, ${bad.length} failed or missing, ${rows.filter((r) => r.ok === null).length} not covered yet → ${outPath}`,
);
