"""Writes docs/benchmarks.md and an SVG chart from bench-results/benchmarks.json (bench/bench.py's output).

Usage: python bench/report.py bench-results/benchmarks.json --markdown docs/benchmarks.md --svg bench/benchmarks.svg

Plain Python, no chart library: the SVG is drawn here.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

SYSTEMS = ["slurm-pipes", "dagster-slurm"]
COLORS = {"payload": "#4c9f70", "in-job": "#e0b040", "outside": "#d0574b"}
SCENARIO_TITLES = {
    "trivial": "(1) trivial: one materialization",
    "paced": "(2a) 200 messages at 100/s (latency without a queue)",
    "messages": "(2) 10,000 messages as fast as dagster-pipes writes them",
    "logs": "(3) 10 MB printed to stdout",
    "twenty": "(4) twenty trivial assets in one run (multiprocess executor, 4 at a time)",
}


def med(entry: dict | None, key: str):
    value = (entry or {}).get(key)
    return value.get("median") if isinstance(value, dict) else None


def fmt_s(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:.0f} s"
    if abs(value) < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.{digits - 1}f} s"


def fmt_n(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def fmt_mb(value) -> str:
    return "–" if value is None else f"{value / 1e6:.1f} MB"


def fmt_rate(value) -> str:
    return "–" if value is None else f"{value:,.0f}/s"


def cell(entry: dict | None, key: str, fmt) -> str:
    value = (entry or {}).get(key)
    if not isinstance(value, dict):
        return "–"
    text = fmt(value["median"])
    if value["n"] > 1 and value["min"] != value["max"]:
        text += f" <sub>{fmt(value['min'])}–{fmt(value['max'])}</sub>"
    return text


def ratio(summary: dict, scenario: str, key: str) -> str:
    r = (summary.get(scenario, {}).get("ratio_dagster_slurm_over_slurm_pipes") or {}).get(key)
    if r is None:
        return "–"
    return f"{r:.1f}×" if r >= 1 or r == 0 else f"1/{1 / r:.1f}"


ROWS = [
    ("wall time per asset (step start → end)", "wall_s", fmt_s),
    ("payload's own run time", "payload_runtime_s", fmt_s),
    ("job run time (Slurm start → end)", "job_runtime_s", fmt_s),
    ("**overhead** (wall − job run time)", "overhead_s", fmt_s),
    ("… of it Slurm's scheduling (submit → start)", "queue_s", fmt_s),
    ("… the rest (overhead − scheduling)", "overhead_less_queue_s", fmt_s),
    ("added to the payload (wall − payload run time)", "added_s", fmt_s),
    ("step start → sbatch accepted", "step_start_to_submit_s", fmt_s),
    ("**job end → Dagster step end**", "job_end_to_step_end_s", fmt_s),
    ("message latency p50 (Dagster event log − send time)", "messages_p50_s", fmt_s),
    ("**message latency p99**", "messages_p99_s", fmt_s),
    ("messages/s in Dagster (first → last receipt)", "messages_throughput_per_s", fmt_rate),
    ("messages/s emitted by the payload", "messages_emit_rate_per_s", fmt_rate),
    ("**messages/s relayed to Dagster's message file** (from first send)", "boundary_throughput_per_s", fmt_rate),
    ("latency p99 at Dagster's message file", "boundary_p99_s", fmt_s),
    ("SSH logins per run", "ssh_auths_per_run", fmt_n),
    ("SSH channels per asset (commands + SFTP)", "ssh_sessions_per_asset", fmt_n),
    ("… remote commands per asset", "ssh_commands_per_asset", fmt_n),
    ("SSH channels refused (sshd MaxSessions)", "ssh_refused_per_run", fmt_n),
    ("bridge peak memory (per bridge process)", "bridge_peak_rss_bytes", fmt_mb),
    ("bridge CPU time (per bridge process)", "bridge_cpu_s", fmt_s),
    ("Dagster process CPU per asset (incl. children)", "dagster_process_cpu_s_per_asset", fmt_s),
    ("Dagster process peak memory", "dagster_process_peak_rss_bytes", fmt_mb),
    ("run wall time (whole Dagster run)", "run_wall_s", fmt_s),
]


def scenario_table(summary: dict, scenario: str) -> list[str]:
    data = summary.get(scenario) or {}
    local = data.get("dagster-local")
    lines = [
        "| | slurm-pipes | dagster-slurm | dagster-slurm ÷ slurm-pipes |" + (" Dagster alone (local subprocess) |" if local else ""),
        "|---|---|---|---|" + ("---|" if local else ""),
    ]
    for title, key, fmt in ROWS:
        a, b = data.get("slurm-pipes"), data.get("dagster-slurm")
        if not any(isinstance((e or {}).get(key), dict) for e in (a, b, local)):
            continue
        row = f"| {title} | {cell(a, key, fmt)} | {cell(b, key, fmt)} | {ratio(summary, scenario, key)} |"
        if local:
            row += f" {cell(local, key, fmt)} |"
        lines.append(row)
    runs = ", ".join(f"{s}: {(data.get(s) or {}).get('runs', 0)} runs" for s in SYSTEMS)
    failed = sum((data.get(s) or {}).get("failed_runs", 0) for s in SYSTEMS)
    lines.append("")
    lines.append(f"Medians, with the range of the repetitions in small type ({runs}"
                 + (f"; {failed} failed run(s) left out" if failed else "") + ").")
    extra = data.get("added_over_dagster_local_s")
    if extra:
        lines.append("Added over Dagster alone running the same payload as a local subprocess: "
                     + ", ".join(f"{s} {fmt_s(v)}" for s, v in extra.items()) + ".")
    logs = (data.get("slurm-pipes") or {}).get("logs"), (data.get("dagster-slurm") or {}).get("logs")
    if any(logs):
        parts = []
        for system, entries in zip(SYSTEMS, logs):
            if entries:
                e = entries[0]
                parts.append(f"{system}: {e['stdout_bytes']:,} bytes reached Dagster's stdout, "
                             f"{e['lines_seen']:,} payload lines ({e['distinct_lines']:,} distinct)")
        lines.append("Output delivered: " + "; ".join(parts) + ".")
    return lines


def svg_chart(result: dict) -> str:
    summary = result["summary"]
    scenarios = [s for s in ("trivial", "paced", "messages", "logs", "twenty") if summary.get(s, {}).get("slurm-pipes")]
    left, top, bar_h, gap, width = 230, 60, 18, 14, 620
    rows = []
    for scenario in scenarios:
        for system in SYSTEMS:
            entry = summary[scenario].get(system)
            if not entry:
                continue
            payload = med(entry, "payload_runtime_s") or 0.0
            job = med(entry, "job_runtime_s") or 0.0
            over = med(entry, "overhead_s") or 0.0
            rows.append((scenario, system, payload, max(0.0, job - payload), max(0.0, over)))
        local = summary[scenario].get("dagster-local")
        if local and med(local, "wall_s") is not None:
            rows.append((scenario, "Dagster alone", None, None, med(local, "wall_s")))
    longest = max(((p or 0) + (j or 0) + o for _, _, p, j, o in rows), default=1.0)
    scale = width / longest
    height = top + len(rows) * (bar_h + 4) + len(scenarios) * gap + 90
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 160}" height="{height}" '
           'font-family="sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="10" y="22" font-size="15" font-weight="bold">Wall time per asset, median '
           f'(slurm-pipes vs dagster-slurm, same run, {result["started_utc"]})</text>',
           '<text x="10" y="42" fill="#555">Each bar: the payload\'s own run time, the rest of the Slurm job, '
           'and everything outside the job (the overhead).</text>']
    y = top
    current = None
    for scenario, system, payload, injob, over in rows:
        if scenario != current:
            if current is not None:
                y += gap
            current = scenario
            out.append(f'<text x="10" y="{y + 12}" font-weight="bold">{scenario}</text>')
        out.append(f'<text x="{left - 8}" y="{y + 13}" text-anchor="end">{system}</text>')
        x = left
        if payload is None:  # Dagster alone: its local subprocess, no cluster
            w = over * scale
            out.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{max(w, 1):.1f}" height="{bar_h - 8}" fill="#888"/>')
            out.append(f'<text x="{x + w + 6:.1f}" y="{y + 13}" fill="#555">{fmt_s(over)}</text>')
            y += bar_h + 4
            continue
        for value, color in ((payload, COLORS["payload"]), (injob, COLORS["in-job"]), (over, COLORS["outside"])):
            w = value * scale
            if w > 0:
                out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>')
            x += w
        out.append(f'<text x="{x + 6:.1f}" y="{y + 13}">{fmt_s(payload + injob + over)}</text>')
        y += bar_h + 4
    # axis
    y += 10
    out.append(f'<line x1="{left}" y1="{y}" x2="{left + width}" y2="{y}" stroke="#333"/>')
    step = 1.0 if longest <= 12 else 2.0 if longest <= 25 else 5.0
    tick = 0.0
    while tick <= longest + 1e-9:
        x = left + tick * scale
        out.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 5}" stroke="#333"/>')
        out.append(f'<text x="{x:.1f}" y="{y + 18}" text-anchor="middle">{tick:g} s</text>')
        tick += step
    y += 40
    x = left
    for label, color in (("payload", COLORS["payload"]), ("rest of the Slurm job", COLORS["in-job"]),
                         ("outside the job (overhead)", COLORS["outside"]),
                         ("Dagster alone (local subprocess)", "#888")):
        out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{color}"/>')
        out.append(f'<text x="{x + 18}" y="{y}">{label}</text>')
        x += 40 + 7 * len(label)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def targets_table(result: dict) -> list[str]:
    lines = ["| target | scenario | slurm-pipes | limit | |", "|---|---|---|---|---|"]
    for t in result["targets"]:
        name = t["target"]
        if "memory" in name:
            value, limit = fmt_mb(t["value"]), fmt_mb(t["limit"])
            if t.get("daemon_peak_rss_bytes"):
                value += f" (mux daemon: {fmt_mb(t['daemon_peak_rss_bytes'])})"
        elif "messages/s" in name:
            value, limit = fmt_rate(t["value"]), fmt_rate(t["limit"])
        elif "authentication" in name:
            value, limit = fmt_n(t["value"]), fmt_n(t["limit"])
        else:
            value, limit = fmt_s(t["value"]), fmt_s(t["limit"])
            if t.get("worst") is not None:
                value += f" (worst {fmt_s(t['worst'])})"
            if t.get("reference") is not None:
                limit += f" (dagster-slurm: {fmt_s(t['reference'])})"
        lines.append(f"| {name} | {t['scenario']} | {value} | {limit} | {'**met**' if t['met'] else '**missed**'} |")
    return lines


def scheduler_section(result: dict) -> list[str]:
    """Slurm's part of the overhead: the wait from sbatch to slurmctld's next scheduling pass."""
    queued = []
    for run in result["runs"]:
        if run["system"] not in ("slurm-pipes", "dagster-slurm"):
            continue
        for step in (run.get("steps") or {}).values():
            start, submit = step.get("job_start_t"), step.get("job_submit_t")
            if start is not None and submit is not None:
                queued.append(start - submit)
    if len(queued) < 10:
        return []
    queued.sort()

    def q(f):
        return fmt_s(queued[min(len(queued) - 1, int(len(queued) * f))])

    return [
        "## Slurm's share: waiting for a scheduling pass",
        "",
        "slurmctld does not start a batch job when `sbatch` hands it over: it starts it at its next scheduling "
        "pass (the main loop and the backfill loop, each about once a second here, although the cluster runs "
        "with `SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,bf_interval=1`; slurmctld's log shows "
        "starts of jobs submitted at different times landing on the same few phases of the second). Over the "
        f"{len(queued)} jobs both systems submitted in this run, submit → start took min {q(0)}, p25 {q(0.25)}, "
        f"median {q(0.5)}, p75 {q(0.75)}, p90 {q(0.9)}, max {fmt_s(queued[-1])}: 0 to 1 s whatever the client. "
        "It is part of every overhead figure above and is shown apart as \"of it Slurm's scheduling\"; the "
        "bridge's own share is \"the rest\".",
        "",
    ]


def missed_section(result: dict) -> list[str]:
    """For each missed target, where its time goes, from this run's own profile phase."""
    missed = [t for t in result["targets"] if not t["met"] and not t["target"].startswith("(")]
    profile = (result.get("profile") or {}).get("trivial")
    if not missed or not profile:
        return []
    ph = profile["phases_ms"]

    def ms(key):
        value = ph.get(key)
        return f"{value['median']:.0f} ms" if value else "?"

    after = profile.get("commands_after_job_end_ms") or {}
    sacct = [f"`{label}` {v['median']:.0f} ms" for label, v in after.items() if label.startswith("sacct")]
    summary = result["summary"]["trivial"]
    queue = summary.get("slurm-pipes", {}).get("queue_s")
    rest = summary.get("slurm-pipes", {}).get("overhead_less_queue_s")
    rest_ds = summary.get("dagster-slurm", {}).get("overhead_less_queue_s")
    lines = ["## Missed targets: where the time is", ""]
    overheads = [t for t in missed if t["target"].startswith("overhead")]
    if overheads:
        names = "; ".join(f"**{t['target']}** ({fmt_s(t['value'])}, {t['scenario']})" for t in overheads)
        lines.append(
            f"- {names}. The trivial payload's median overhead is Slurm's scheduling "
            f"{fmt_s(queue['median'] if queue else None)} (see below) plus the bridge's own "
            f"{fmt_s(rest['median'] if rest else None)} (dagster-slurm's own: "
            f"{fmt_s(rest_ds['median'] if rest_ds else None)}). The bridge's part, from the profile: Node start-up "
            f"and loading {ms('bridge start-up to its first remote command')}, remote commands before sbatch "
            f"{ms('remote commands before sbatch')}, sbatch {ms('sbatch')}, seeing the end "
            f"{ms('job end to the squeue that sees it')}, accounting and exit "
            f"{ms('then to bridge exit (sacct, records)')}. In the twenty-asset run four bridges and their Dagster "
            "processes share the two cores with the cluster, and jobs also wait for a free CPU.")
    for t in missed:
        name = t["target"]
        if name.startswith("overhead"):
            continue
        if name.startswith("job end"):
            lines.append(
                f"- **{name}** ({fmt_s(t['value'])}): slurmctld ends the job; the bridge sees it "
                f"{ms('job end to the squeue that sees it')} later (squeue every 20 ms once the payload sent "
                f"`closed`), reaches its exit {ms('then to bridge exit (sacct, records)')} after that, and Dagster "
                f"records the step's end {ms('bridge exit to Dagster step end')} after the exit. The middle part is "
                f"the job's accounting for the `slurm_*` metadata ({', '.join(sacct) or 'sacct'}), which "
                "dagster-slurm fetches too: one `sacct` takes ~90 ms on this loopback cluster, of which ~80 ms are two "
                "40 ms delayed-ACK waits inside Slurm's own RPC to slurmdbd (strace of `sacct` here: the request body "
                "leaves ~40 ms after its length, the reply body arrives ~40 ms after its length), and right after a "
                "job's end slurmdbd may not have its record yet, so a second call already under way answers. That "
                "limit is slurmdbd's, not the bridge's.")
        else:
            lines.append(f"- **{name}**: {fmt_s(t['value']) if isinstance(t['value'], float) else t['value']}; see the results below.")
    lines.append("")
    return lines


def profile_section(result: dict) -> list[str]:
    profile = result.get("profile") or {}
    if not profile:
        return []
    lines = ["## Where slurm-pipes' time goes", "",
             "A separate phase after the measured runs repeats the trivial and paced cases for slurm-pipes with "
             "`bench/profile-ssh.mjs` preloaded, which records every remote command the multiplexing daemon runs "
             "(asked, channel open, closed). Joined with Dagster's step events and slurmctld's job events "
             "(medians, ms):", "",
             "| phase | " + " | ".join(profile) + " |", "|---|" + "---|" * len(profile)]
    keys = list(next(iter(profile.values()))["phases_ms"])
    for key in keys:
        cells = []
        for scenario in profile:
            value = profile[scenario]["phases_ms"].get(key)
            cells.append("–" if not value else f"{value['median']:.0f} <sub>{value['min']:.0f}–{value['max']:.0f}</sub>")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    first = next(iter(profile.values()))
    lines += ["", f"Remote commands before `sbatch`, in the order they started ({len(first['commands_before_sbatch'])}; some run at once): "
              + ", ".join(f"`{c}`" for c in first["commands_before_sbatch"]) + ".", ""]
    for scenario, data in profile.items():
        after = ", ".join(f"`{label}` {v['median']:.0f} ms" for label, v in data["commands_after_job_end_ms"].items())
        polls = data["squeue_polls_s_after_job_start"][0] if data["squeue_polls_s_after_job_start"] else []
        lines.append(f"- {scenario}: after the job ended: {after}. `squeue` polls at "
                     + ", ".join(f"{p:+.2f}" for p in polls) + " s from the job's start (first run).")
    return lines


def markdown(result: dict, svg_path: str, md_path: str) -> str:
    m = result["machine"]
    summary = result["summary"]
    cfg = result["config"]
    rel_svg = os.path.relpath(svg_path, os.path.dirname(md_path))
    lines = [
        "# Benchmarks: slurm-pipes against dagster-slurm",
        "",
        "<!-- Generated by bench/report.py from bench-results/benchmarks.json; `npm run bench` regenerates it. -->",
        "",
        f"One run of `npm run bench`, started {result['started_utc']}, {result['duration_s'] / 60:.1f} minutes of "
        f"measured runs. The same Dagster assets and payloads go through slurm-pipes "
        f"(`dagster_slurm_pipes.ComputeResource(mode=\"slurm\")`, the bridge built from this checkout) and through "
        f"dagster-slurm {m['dagster_slurm']} from PyPI (`dagster_slurm.ComputeResource(mode=\"slurm\")`, its "
        "pre-deployed-environment path), interleaved, against the same Slurm cluster on this machine. "
        "Ratios compare the two medians from this run.",
        "",
        "## Machine and versions",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {m['cpu']}, {m['cores']} cores |",
        f"| memory | {m['memory_bytes'] / 2**30:.0f} GiB |",
        f"| OS, kernel | {m['os']}, {m['kernel']} |",
        f"| load average before / after | {' / '.join(f'{x:.1f}' for x in result['loadavg_before'][:1] + result['loadavg_after'][:1])} |",
        f"| Node.js, Python | {m['node']}, {m['python']} |",
        f"| Dagster, dagster-pipes | {m['dagster']}, {m['dagster_pipes']} |",
        f"| dagster-slurm | {m['dagster_slurm']} |",
        f"| Slurm, OpenSSH | {m['slurm']}, {m['openssh']} |",
        f"| slurm-pipes | commit {str(m['git_commit'])[:12]} ({m['git_uncommitted_files']} files with uncommitted changes in the tree) |",
        f"| SSH | key authentication, strict host key checking, sshd `MaxSessions {cfg['ssh']['max_sessions']}` (the OpenSSH default) |",
        f"| Slurm job | {cfg['queue']['cpus']} CPU, {cfg['queue']['mem']}, two nodes on loopback |",
        "",
        f"![Wall time per asset]({rel_svg})",
        "",
        "## Targets",
        "",
        *targets_table(result),
        "",
        "## Results",
        "",
    ]
    for scenario in ("trivial", "paced", "messages", "logs", "twenty"):
        if summary.get(scenario, {}).get("slurm-pipes") or summary.get(scenario, {}).get("dagster-slurm"):
            lines += [f"### {SCENARIO_TITLES[scenario]}", "", *scenario_table(summary, scenario), ""]
    cold = summary.get("cold_first_run") or {}
    if cold:
        lines += ["### First run of each scenario (cold: login, staging)", "",
                  "| scenario | slurm-pipes wall | dagster-slurm wall | slurm-pipes logins | dagster-slurm logins |",
                  "|---|---|---|---|---|"]
        for scenario, data in cold.items():
            a, b = data.get("slurm-pipes", {}), data.get("dagster-slurm", {})
            lines.append(f"| {scenario} | {fmt_s(a.get('wall_s'))} | {fmt_s(b.get('wall_s'))} | "
                         f"{fmt_n(a.get('ssh_auths'))} | {fmt_n(b.get('ssh_auths'))} |")
        lines.append("")
    conns = summary.get("connections") or {}
    if conns:
        lines += ["### The connection holders", "",
                  "| | process | peak memory | CPU time over its life |", "|---|---|---|---|"]
        for system, data in conns.items():
            lines.append(f"| {system} | {data['kind']} ({data['instances']} started) | "
                         f"{cell(data, 'peak_rss_bytes', fmt_mb)} | {cell(data, 'cpu_s', fmt_s)} |")
        lines.append("")
    lines += missed_section(result)
    lines += scheduler_section(result)
    lines += profile_section(result)
    lines += [
        "",
        "## How it is measured",
        "",
        "- Every run is a fresh Dagster process (`bench/dagster_run.py`), as Dagster starts a run worker per run. "
        "Single-asset runs use `dagster.materialize` on an in-memory instance; the twenty-asset run uses the "
        f"multiprocess executor (`max_concurrent={cfg['max_concurrent']}`) on a temporary on-disk instance.",
        "- **Wall time**: the step's `STEP_START` → `STEP_SUCCESS` in Dagster's event log. **Job run time**: "
        "Slurm's start → end of the job. sacct reports these in whole seconds; the benchmark reads the same two "
        "events (`sched: Allocate`/`_start_job`, `_job_complete … done`) from slurmctld's log in milliseconds "
        "(sacct's whole-second values are kept in the JSON as `sacct_*`). **Overhead** = wall − job run time. "
        "**Job end → step end**: slurmctld's job end to Dagster's `STEP_SUCCESS`.",
        "- **Message latency**: each message's text carries its send time; the receipt is the Dagster event log "
        "record's timestamp, in the Dagster process. 10,000 messages sent at once queue behind Dagster's own "
        "handling of log records (about 2,000/s on this machine, the same for every system and for Dagster "
        "alone), so latency is also measured without a queue: 200 messages at 100/s (scenario 2a).",
        "- **Relay throughput**: where Dagster reads Pipes messages from a local file (slurm-pipes: the bridge "
        "writes them there), a second reader of that file records when each message arrived; messages ÷ (last "
        "arrival − first send). dagster-slurm has no such hand-over: its reader thread inside the Dagster process "
        "reads an `ssh … tail -F` pipe and hands each line to Dagster, so only its Dagster-side figures exist.",
        "- **SSH**: sshd runs at `LogLevel VERBOSE`; per run, the log's new lines are counted: `Accepted publickey` "
        "(a login), `Starting session:` (a channel: a remote command or an SFTP session), `no more sessions` "
        "(a channel refused at `MaxSessions`). Before each scenario (and before every twenty-asset run) "
        "slurm-pipes' multiplexing daemon is stopped and dagster-slurm's ControlMaster closed, and the first run "
        "of each scenario is reported apart as cold.",
        "- **Bridge memory and CPU**: `bench/usage-recorder.mjs` is preloaded into the bridge (`node --import`) "
        "and, through the same Node flags, into its multiplexing daemon; at exit each records its peak RSS "
        "(VmHWM) and CPU time. ru_maxrss is not used: Linux carries the forking Dagster process's RSS into it. "
        "dagster-slurm has no separate process; its cost is in the Dagster process (CPU including children, "
        "e.g. its `ssh` commands) and in the OpenSSH ControlMaster (read from /proc before it is closed).",
        "- Both systems run the payloads with the same interpreter, a virtual environment with dagster-pipes "
        "deployed on the cluster beforehand (dagster-slurm: `pre_deployed_env_path`, which sources its "
        "`activate.sh` and runs `env/bin/python`; slurm-pipes: `SlurmResource(pre_deployed_env_path=…/env)`). "
        "Everything else is each system's default (dagster-slurm: status polls every 2 s growing to 5 s, "
        "`include_stdio_in_messages`, cleanup of the run directory).",
        "- The machine is shared with other work: the load average is recorded above and in each run "
        "(`runs[].loadavg` in the JSON). Medians are reported; the ranges show the spread.",
        "",
        "## Reproduce",
        "",
        "```sh",
        "npm run bench        # root on Debian 12; ~15 minutes on 2 cores",
        "```",
        "",
        "`bench/run.sh` brings up its own cluster (`scripts/cluster/native-up.sh` with state in "
        "`.state/cluster-bench` and ports +3000), creates `bench/.venv` (Dagster "
        f"{m['dagster']} and the newest dagster-slurm), deploys the payload environment on the cluster, builds "
        "the bridge's CLI bundle (`packages/bridge/dist/slurm-pipes.js`, what users run), runs `bench/bench.py` (writes "
        "`bench-results/benchmarks.json`), then `bench/report.py` (this file and the chart) and stops the cluster. "
        "Repetitions: `SLURM_PIPES_BENCH_REPS` (default 5), `SLURM_PIPES_BENCH_TWENTY_REPS` (3). Payloads: "
        "`test/fixtures/bench-payloads/`; assets: `bench/defs.py`. To regenerate only this page: "
        "`bench/.venv/bin/python bench/report.py bench-results/benchmarks.json --markdown docs/benchmarks.md "
        "--svg bench/benchmarks.svg`.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results")
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--svg", required=True)
    args = parser.parse_args()
    result = json.loads(Path(args.results).read_text())
    Path(args.svg).write_text(svg_chart(result))
    Path(args.markdown).write_text(markdown(result, args.svg, args.markdown))


if __name__ == "__main__":
    main()
