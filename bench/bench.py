"""Runs the benchmark: the same Dagster assets through slurm-pipes and dagster-slurm, side by side.

Usage (bench/run.sh prepares everything and calls this):
    python bench/bench.py --output bench-results/benchmarks.json [--reps N] [--twenty-reps N]

Each measured run is one fresh Dagster process (bench/dagster_run.py), as Dagster starts a run
worker per run. Around each run this script marks the bench cluster's sshd log (LogLevel VERBOSE:
one "Accepted publickey" per login, one "Starting session" per channel a client opens: a remote
command or an SFTP session), then reads the Slurm job's submit, start and end from slurmctld's log
(the events sacct's Submit/Start/End come from, in milliseconds instead of seconds; sacct's own
values are kept too), and the bridge's peak memory and CPU time from bench/usage-recorder.mjs.

Order: per scenario, connections are reset (slurm-pipes' multiplexing daemon stopped, dagster-slurm's
ControlMaster closed), one cold run per system (its login and first staging: reported apart),
then the repetitions, alternating which system goes first. The twenty-asset run starts cold every
time, so its login count is what twenty assets cost from nothing.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SYSTEMS = ["slurm-pipes", "dagster-slurm"]
BASELINE = "dagster-local"
SINGLE_SCENARIOS = ["trivial", "paced", "messages", "logs"]
ASSETS = {"trivial": 1, "paced": 1, "messages": 1, "logs": 1, "twenty": 20}
SLURMCTLD_EVENT = re.compile(
    r"^\[(?P<ts>[0-9T:.\-]+)\] (?:(?P<submit>_slurm_rpc_submit_batch_job: JobId=(?P<j1>\d+))"
    r"|(?P<alloc>sched: Allocate JobId=(?P<j2>\d+))"
    r"|(?P<started>sched/backfill: _start_job: Started JobId=(?P<j3>\d+))"
    r"|(?P<done>_job_complete: JobId=(?P<j4>\d+) done))"
)


def log(text: str) -> None:
    print(f"[bench {dt.datetime.now().strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


def quantile(values: list[float], q: float) -> float | None:
    """Nearest-rank quantile (q in 0..1)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 1))))
    return ordered[rank - 1]


def spread(values: list[float | None]) -> dict | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return {
        "median": statistics.median(present),
        "min": min(present),
        "max": max(present),
        "n": len(present),
        "values": [round(v, 6) for v in present],
    }


class Cluster:
    def __init__(self, env_file: Path):
        self.env = read_env_file(env_file)
        self.state = Path(self.env["SLURM_PIPES_CLUSTER_STATE"])
        self.sshd_log = Path(self.env["SLURM_PIPES_SSHD_LOG"])
        self.slurmctld_log = self.state / "slurm" / "log" / "slurmctld.log"
        self.slurm_env = {**os.environ, "SLURM_CONF": self.env["SLURM_PIPES_SLURM_CONF"]}

    def sshd_mark(self) -> int:
        return self.sshd_log.stat().st_size

    def sshd_since(self, mark: int) -> dict:
        with open(self.sshd_log, "rb") as handle:
            handle.seek(mark)
            text = handle.read().decode("utf-8", "replace")
        return {
            "auths": len(re.findall(r"^Accepted (?:publickey|password|keyboard-interactive\S*) for ", text, re.M)),
            "commands": len(re.findall(r"^Starting session: command ", text, re.M)),
            "sftp": len(re.findall(r"^Starting session: subsystem 'sftp' ", text, re.M)),
            "sessions": len(re.findall(r"^Starting session: ", text, re.M)),
            "refused": len(re.findall(r"no more sessions", text)),
        }

    def job_events(self) -> dict[str, dict[str, float]]:
        jobs: dict[str, dict[str, float]] = {}
        with open(self.slurmctld_log, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                match = SLURMCTLD_EVENT.match(line)
                if not match:
                    continue
                # slurmctld logs local time with milliseconds; this machine's clock is the same one.
                ts = dt.datetime.fromisoformat(match.group("ts")).timestamp()
                job = match.group("j1") or match.group("j2") or match.group("j3") or match.group("j4")
                kind = "submit" if match.group("submit") else "end" if match.group("done") else "start"
                jobs.setdefault(job, {})[kind] = ts
        return jobs

    def sacct(self, job_ids: list[str]) -> dict[str, dict]:
        if not job_ids:
            return {}
        out = subprocess.run(
            ["sacct", "-X", "-n", "-P", "-j", ",".join(job_ids), "-o", "JobID,State,Submit,Start,End,Elapsed,JobName%200"],
            capture_output=True, text=True, env=self.slurm_env, timeout=60, check=False,
        ).stdout
        rows = {}
        for line in out.splitlines():
            parts = line.split("|")
            if len(parts) < 7:
                continue
            job, state, submit, start, end, elapsed, *name = parts

            def ts(value: str) -> float | None:
                try:
                    return dt.datetime.fromisoformat(value).timestamp()
                except ValueError:
                    return None

            rows[job] = {"state": state, "submit": ts(submit), "start": ts(start), "end": ts(end),
                         "elapsed": elapsed, "name": "|".join(name)}
        return rows

    def wait_jobs(self, job_ids: list[str], timeout: float = 30) -> tuple[dict, dict]:
        deadline = time.time() + timeout
        while True:
            events = self.job_events()
            rows = self.sacct(job_ids)
            ready = all("end" in events.get(j, {}) and rows.get(j, {}).get("end") for j in job_ids)
            if ready or time.time() > deadline:
                return events, rows
            time.sleep(0.5)


class Bench:
    def __init__(self, args):
        self.args = args
        self.cluster = Cluster(Path(args.cluster_env))
        self.work = Path(tempfile.mkdtemp(prefix="slurm-pipes-bench-"))
        self.usage_file = self.work / "usage.jsonl"
        self.usage_file.touch()
        self.mux_dir = Path(args.mux_dir)
        self.cm_dir = Path(args.control_dir)
        for d in (self.mux_dir, self.cm_dir):
            d.mkdir(parents=True, exist_ok=True)
            d.chmod(0o700)
        self.bridge = json.loads(args.bridge)
        self.env = {
            **os.environ,
            "BENCH_CLUSTER_ENV": str(args.cluster_env),
            "BENCH_DEPLOYED_ENV": args.deployed_env,
            "BENCH_BRIDGE": args.bridge,
            "SLURM_PIPES_MUX_DIR": str(self.mux_dir),
            "SLURM_PIPES_BENCH_USAGE": str(self.usage_file),
            "DAGSTER_SLURM_SSH_CONTROL_DIR": str(self.cm_dir),
            "PYTHONPATH": str(REPO / "packages" / "dagster-slurm-pipes" / "src"),
            "PYTHONUNBUFFERED": "1",
        }
        self.runs: list[dict] = []
        self.profiles: list[dict] = []
        self.duration = 0.0
        self.connections: list[dict] = []  # daemon / ControlMaster figures per reset
        self.usage_seen = 0

    # --- connections ---------------------------------------------------------------------------

    def new_usage(self) -> list[dict]:
        lines = self.usage_file.read_text().splitlines()
        fresh = [json.loads(line) for line in lines[self.usage_seen:] if line.strip()]
        self.usage_seen = len(lines)
        return fresh

    def reset_connections(self, scenario: str) -> None:
        """Stops slurm-pipes' mux daemon and closes dagster-slurm's ControlMaster, keeping their figures."""
        before = len(self.usage_file.read_text().splitlines())
        quiet = {k: v for k, v in self.env.items() if k not in ("SLURM_PIPES_BENCH_USAGE", "SLURM_PIPES_BENCH_PROFILE")}
        stop = subprocess.run([*self.bridge, "mux", "stop"], env=quiet, capture_output=True, text=True, timeout=60,
                              check=False)
        if "stopped" in stop.stdout:
            deadline = time.time() + 10
            while time.time() < deadline:
                lines = self.usage_file.read_text().splitlines()
                if any('"role":"daemon"' in line for line in lines[before:]):
                    break
                time.sleep(0.1)
        for record in self.new_usage():
            if record["role"] == "daemon":
                self.connections.append({"system": "slurm-pipes", "scenario": scenario, "kind": "mux daemon",
                                         "peak_rss_bytes": record.get("peakRssBytes"),
                                         "cpu_s": record["userCpuSeconds"] + record["systemCpuSeconds"],
                                         "lifetime_s": record["endedAt"] - record["startedAt"]})
            else:
                log(f"unattributed usage record: {record}")
        for socket in sorted(self.cm_dir.glob("cm-*")):
            figures = self.control_master_figures(socket)
            target = f"{self.cluster.env['SLURM_SSH_USER']}@{self.cluster.env['SLURM_SSH_HOST']}"
            subprocess.run(["ssh", "-O", "exit", "-o", f"ControlPath={socket}", target], capture_output=True,
                           timeout=30, check=False)
            if figures is not None:
                self.connections.append({"system": "dagster-slurm", "scenario": scenario, "kind": "ssh ControlMaster",
                                         **figures})
        time.sleep(0.3)

    def control_master_figures(self, socket: Path) -> dict | None:
        target = f"{self.cluster.env['SLURM_SSH_USER']}@{self.cluster.env['SLURM_SSH_HOST']}"
        check = subprocess.run(["ssh", "-O", "check", "-o", f"ControlPath={socket}", target], capture_output=True,
                               text=True, timeout=30, check=False)
        match = re.search(r"pid=(\d+)", check.stderr + check.stdout)
        if not match:
            return None
        pid = match.group(1)
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        hwm = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
        ticks = os.sysconf("SC_CLK_TCK")
        return {"peak_rss_bytes": int(hwm.group(1)) * 1024 if hwm else None,
                "cpu_s": (int(stat[11]) + int(stat[12])) / ticks}

    # --- one run -------------------------------------------------------------------------------

    def run_once(self, system: str, scenario: str, rep: int | str, extra_env: dict | None = None) -> dict:
        tag = f"{system}:{scenario}:{rep}"
        out = self.work / f"{system}-{scenario}-{rep}"
        mark = self.cluster.sshd_mark()
        env = {**self.env, "BENCH_SYSTEM": system, "SLURM_PIPES_BENCH_TAG": tag, **(extra_env or {})}
        command = [sys.executable, str(HERE / "dagster_run.py"), "--scenario", scenario, "--output", f"{out}.json",
                   "--stdout-file", f"{out}.out", "--stderr-file", f"{out}.err",
                   "--max-concurrent", str(self.args.max_concurrent)]
        began = time.time()
        try:
            proc = subprocess.run(command, env=env, timeout=900 if scenario == "twenty" else 300, check=False)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
        elapsed = time.time() - began
        record: dict = {"system": system, "scenario": scenario, "rep": rep, "tag": tag, "process_wall_s": elapsed}
        result_path = Path(f"{out}.json")
        if code != 0 or not result_path.exists():
            err = Path(f"{out}.err").read_text(errors="replace")[-3000:] if Path(f"{out}.err").exists() else ""
            record.update(success=False, error=f"dagster_run.py exited {code}: {err}")
            log(f"{tag}: FAILED ({code})")
            self.runs.append(record)
            return record
        result = json.loads(result_path.read_text())
        record["ssh"] = self.cluster.sshd_since(mark) if system != BASELINE else None
        record["success"] = bool(result["success"]) and all(s.get("success") for s in result["steps"].values())
        record["run_wall_s"] = result["run_ended"] - result["run_started"]
        record["loadavg"] = result["loadavg"]
        record["dagster_process"] = {
            "cpu_s": result["rusage"]["self_cpu_s"] + result["rusage"]["children_cpu_s"],
            "peak_rss_bytes": result["rusage"]["self_max_rss_bytes"],
        }
        usage = [u for u in self.new_usage() if u.get("tag") == tag and u["role"] == "bridge"]
        record["bridges"] = [{"peak_rss_bytes": u.get("peakRssBytes"),
                              "cpu_s": u["userCpuSeconds"] + u["systemCpuSeconds"],
                              "wall_s": u["endedAt"] - u["startedAt"]} for u in usage] if system == "slurm-pipes" else None
        steps = result["steps"]
        job_ids = [str(s["metadata"].get("slurm_job_id")) for s in steps.values() if s["metadata"].get("slurm_job_id")]
        events, sacct = self.cluster.wait_jobs(job_ids) if job_ids else ({}, {})
        per_step = {}
        for key, step in steps.items():
            meta = step["metadata"]
            job = str(meta.get("slurm_job_id")) if meta.get("slurm_job_id") is not None else None
            ev = events.get(job, {}) if job else {}
            row = sacct.get(job, {}) if job else {}
            item: dict = {"wall_s": step["end"] - step["start"] if step["end"] and step["start"] else None,
                          "success": step.get("success"), "job_id": job, "start_t": step["start"], "end_t": step["end"],
                          "job_submit_t": ev.get("submit"), "job_start_t": ev.get("start"), "job_end_t": ev.get("end")}
            if step.get("error"):
                item["error"] = step["error"][-2000:]
            if "payload_started" in meta and "payload_ended" in meta:
                item["payload_runtime_s"] = meta["payload_ended"] - meta["payload_started"]
                if item["wall_s"] is not None:
                    item["added_s"] = item["wall_s"] - item["payload_runtime_s"]
            if ev.get("start") and ev.get("end") and item["wall_s"] is not None:
                item["job_runtime_s"] = ev["end"] - ev["start"]
                item["overhead_s"] = item["wall_s"] - item["job_runtime_s"]
                item["job_end_to_step_end_s"] = step["end"] - ev["end"]
                item["step_start_to_submit_s"] = ev.get("submit", ev["start"]) - step["start"]
                item["queue_s"] = ev["start"] - ev.get("submit", ev["start"])
                # What the system itself adds: the overhead less Slurm's scheduling (submit -> start).
                item["overhead_less_queue_s"] = item["overhead_s"] - item["queue_s"]
            if row.get("start") and row.get("end") and item["wall_s"] is not None:
                item["sacct_runtime_s"] = row["end"] - row["start"]
                item["sacct_overhead_s"] = item["wall_s"] - item["sacct_runtime_s"]
                item["sacct_state"] = row["state"]
            per_step[key] = item
        record["steps"] = per_step
        messages = result.get("messages")
        if messages:
            lat = messages["latencies_s"]
            record["messages"] = {
                "received": messages["received"], "distinct": messages["distinct"], "in_order": messages["in_order"],
                "p50_s": quantile(lat, 0.5), "p99_s": quantile(lat, 0.99), "max_s": max(lat),
                "receipt_span_s": messages["last_receipt"] - messages["first_receipt"],
                "throughput_per_s": (messages["received"] - 1) / (messages["last_receipt"] - messages["first_receipt"])
                if messages["last_receipt"] > messages["first_receipt"] else None,
                "send_span_s": messages["last_send"] - messages["first_send"],
                "emit_rate_per_s": (messages["received"] - 1) / (messages["last_send"] - messages["first_send"])
                if messages["last_send"] > messages["first_send"] else None,
                "last_receipt_after_last_send_s": messages["last_receipt"] - messages["last_send"],
            }
        boundary = result.get("boundary")
        if boundary:
            lat = boundary["latencies_s"]
            span = boundary["last_arrival"] - boundary["first_send"]
            record["boundary"] = {
                "received": boundary["received"], "distinct": boundary["distinct"],
                "p50_s": quantile(lat, 0.5), "p99_s": quantile(lat, 0.99), "max_s": max(lat),
                # Conservative: from the first send, so the payload's own emission time is included.
                "throughput_per_s": boundary["received"] / span if span > 0 else None,
                "last_arrival_after_last_send_s": boundary["last_arrival"] - boundary["last_send"],
            }
        if scenario == "logs":
            stdout = Path(f"{out}.out")
            data = stdout.read_bytes()
            indices = re.findall(rb"bench-log (\d{7}) ", data)
            record["logs"] = {"stdout_bytes": len(data), "lines_seen": len(indices), "distinct_lines": len(set(indices))}
        for suffix in (".out", ".err"):
            path = Path(f"{out}{suffix}")
            if record["success"] and path.exists():
                path.unlink()
        first = next(iter(per_step.values()), {})
        log(f"{tag}: {'ok' if record['success'] else 'FAILED'} run {record['run_wall_s']:.2f} s"
            + (f", wall {first.get('wall_s', 0):.3f} s, overhead {first.get('overhead_s', float('nan')):.3f} s"
               if len(per_step) == 1 else "")
            + (f", ssh auths {record['ssh']['auths']} sessions {record['ssh']['sessions']}" if record["ssh"] else ""))
        self.runs.append(record)
        return record

    # --- the plan ------------------------------------------------------------------------------

    def execute(self) -> None:
        args = self.args
        plan_started = time.time()
        previous = "start"  # connection figures are attributed to the scenario that just ended
        for scenario in SINGLE_SCENARIOS:
            self.reset_connections(previous)
            for system in SYSTEMS:
                self.run_once(system, scenario, "cold")
            for rep in range(args.reps):
                order = SYSTEMS if rep % 2 == 0 else list(reversed(SYSTEMS))
                for system in order:
                    self.run_once(system, scenario, rep)
            for rep in range(args.baseline_reps):
                self.run_once(BASELINE, scenario, rep)
            previous = scenario
        for rep in range(args.twenty_reps):
            order = SYSTEMS if rep % 2 == 0 else list(reversed(SYSTEMS))
            for system in order:
                self.reset_connections(previous)
                self.run_once(system, "twenty", rep)
                previous = "twenty"
        self.reset_connections(previous)
        self.profiles = self.profile_phase(args.profile_reps) if args.profile_reps > 0 else []
        self.duration = time.time() - plan_started

    def profile_phase(self, reps: int) -> list[dict]:
        """slurm-pipes again, with bench/profile-ssh.mjs recording every remote command: where the time goes."""
        profile = self.work / "profile.jsonl"
        profile.touch()
        bridge = [*self.bridge[:-1], "--import", str(HERE / "profile-ssh.mjs"), self.bridge[-1]]
        extra = {"BENCH_BRIDGE": json.dumps(bridge), "SLURM_PIPES_BENCH_PROFILE": str(profile)}
        self.reset_connections("profile")
        records = []
        # A cold run first so the daemon (which runs the commands) is the profiled one.
        self.run_once("slurm-pipes", "trivial", "profile-cold", extra)
        for scenario in ("trivial", "paced"):
            for rep in range(reps):
                records.append(self.run_once("slurm-pipes", scenario, f"profile-{rep}", extra))
        self.reset_connections("profile")
        events = [json.loads(line) for line in profile.read_text().splitlines() if line.strip()]
        return [breakdown(r, events) for r in records if r.get("success")]


# --- aggregation -------------------------------------------------------------------------------

def measured(runs: list[dict], system: str, scenario: str) -> list[dict]:
    return [r for r in runs if r["system"] == system and r["scenario"] == scenario and isinstance(r["rep"], int)
            and r.get("success")]


def command_label(event: dict) -> str:
    """A short name for a remote command the bridge ran (its scripts travel base64-encoded)."""
    if event["event"] == "sftp":
        return "sftp session (staging check/upload)"
    text = event.get("command", "")
    encoded = re.search(r"printf %s ([A-Za-z0-9+/=]+)", text)
    if encoded:
        chunk = encoded.group(1)[: len(encoded.group(1)) // 4 * 4]
        try:
            text = base64.b64decode(chunk).decode("utf-8", "replace")
        except ValueError:
            pass
    for needle, label in (
        ("min=$1 max=$2 cap=$3", "tail of messages/stdout/stderr (one channel, whole job)"),
        ("sbatch ", "sbatch"), ("squeue ", "squeue (job state)"),
        ("--allocations", "sacct (exit code of the ended job)"), ("sacct ", "sacct (metrics)"),
        ("import dagster_pipes", "python -c 'import dagster_pipes' (runtime check)"),
        ("printenv HOME", "printenv HOME (remote base)"), ("-c true", "true (connection probe)"),
        ("stat -L -c %s", "stat (final file sizes)"), ("released", "release step lock"),
        ("if mkdir --", "take step lock"), (": > messages.jsonl", "create run directory"),
        ('tmp="$1.tmp', "write a file atomically (job.sh/context/submit.json/job.json)"),
        ("present", "read step records"),
    ):
        if needle in text:
            return label
    return text[:60]


def breakdown(record: dict, events: list[dict]) -> dict:
    """Where one profiled slurm-pipes step spent its time, from Dagster's step start to its end."""
    step = next(iter(record["steps"].values()))
    start, end = step["start_t"], step["end_t"]
    submit, job_start, job_end = step["job_submit_t"], step["job_start_t"], step["job_end_t"]
    own = [e for e in events if e["role"] == "bridge" and e.get("tag") == record["tag"]]
    process_start = next((e["t"] for e in own if e["event"] == "process-start"), None)
    process_exit = next((e["t"] for e in own if e["event"] == "process-exit"), None)
    commands = sorted((e for e in events if e["event"] in ("exec", "sftp") and start - 0.05 <= e["asked"] <= end + 0.05),
                      key=lambda e: e["asked"])
    for c in commands:
        c["label"] = command_label(c)
    sbatch = next((c for c in commands if c["label"] == "sbatch"), None)
    # The squeue that saw the end is the last one before the first sacct asked after the job ended
    # (the bridge asks for the job's accounting, or an older one for its exit code, once it saw the end).
    end_sacct = next((c for c in commands if c["label"].startswith("sacct") and c["asked"] >= job_end), None) \
        if job_end is not None else None
    squeues = [c for c in commands if c["label"].startswith("squeue")
               and (end_sacct is None or c["asked"] < end_sacct["asked"])]
    detect = squeues[-1] if squeues and end_sacct is not None else None
    out = {"scenario": record["scenario"], "wall_s": step["wall_s"]}
    if None in (process_start, process_exit, sbatch, submit, job_start, job_end) or not commands:
        out["incomplete"] = True
        return out
    ms = lambda a, b: round((b - a) * 1000, 1)  # noqa: E731
    first = commands[0]
    out["phases_ms"] = {
        "Dagster starts the bridge": ms(start, process_start),
        "bridge start-up to its first remote command": ms(process_start, first["asked"]),
        "remote commands before sbatch": ms(first["asked"], sbatch["asked"]),
        "sbatch": ms(sbatch["asked"], sbatch.get("closed", sbatch["opened"])),
        "Slurm: submit to start": ms(submit, job_start),
        "the job (Slurm start to end)": ms(job_start, job_end),
        "job end to the squeue that sees it": ms(job_end, detect.get("closed", detect["opened"])) if detect else None,
        "then to bridge exit (sacct, records)": ms(detect.get("closed", detect["opened"]), process_exit) if detect else None,
        "bridge exit to Dagster step end": ms(process_exit, end),
    }
    out["commands_before_sbatch"] = [c["label"] for c in commands if c["asked"] < sbatch["asked"]]
    out["commands_after_job_end"] = [
        {"label": c["label"], "ms": ms(c["asked"], c.get("closed", c["opened"]))} for c in commands
        if c["asked"] >= job_end and "tail of" not in c["label"]]
    out["squeue_polls"] = [round(c["asked"] - job_start, 3) for c in commands if c["label"].startswith("squeue")]
    out["remote_channels"] = len(commands)
    return out


def step_values(runs: list[dict], key: str) -> list[float]:
    return [s[key] for r in runs for s in r.get("steps", {}).values() if s.get(key) is not None]


def aggregate(bench: Bench) -> dict:
    runs = bench.runs
    summary: dict = {}
    for scenario in [*SINGLE_SCENARIOS, "twenty"]:
        summary[scenario] = {}
        for system in [*SYSTEMS, BASELINE]:
            chosen = measured(runs, system, scenario)
            if not chosen:
                continue
            n_assets = ASSETS[scenario]
            entry: dict = {"runs": len(chosen),
                           "failed_runs": len([r for r in runs if r["system"] == system and r["scenario"] == scenario
                                               and not r.get("success")])}
            for key in ("wall_s", "job_runtime_s", "overhead_s", "job_end_to_step_end_s", "step_start_to_submit_s",
                        "queue_s", "overhead_less_queue_s", "payload_runtime_s", "added_s", "sacct_runtime_s",
                        "sacct_overhead_s"):
                entry[key] = spread(step_values(chosen, key))
            entry["run_wall_s"] = spread([r["run_wall_s"] for r in chosen])
            if system != BASELINE:
                entry["ssh_auths_per_run"] = spread([r["ssh"]["auths"] for r in chosen])
                entry["ssh_sessions_per_asset"] = spread([r["ssh"]["sessions"] / n_assets for r in chosen])
                entry["ssh_commands_per_asset"] = spread([r["ssh"]["commands"] / n_assets for r in chosen])
                entry["ssh_sftp_per_asset"] = spread([r["ssh"]["sftp"] / n_assets for r in chosen])
                entry["ssh_refused_per_run"] = spread([r["ssh"]["refused"] for r in chosen])
            entry["dagster_process_cpu_s_per_asset"] = spread([r["dagster_process"]["cpu_s"] / n_assets for r in chosen])
            entry["dagster_process_peak_rss_bytes"] = spread([r["dagster_process"]["peak_rss_bytes"] for r in chosen])
            if system == "slurm-pipes":
                bridges = [b for r in chosen for b in (r.get("bridges") or [])]
                entry["bridge_peak_rss_bytes"] = spread([b["peak_rss_bytes"] for b in bridges])
                entry["bridge_cpu_s"] = spread([b["cpu_s"] for b in bridges])
                entry["bridge_processes_recorded"] = len(bridges)
            if any(r.get("messages") for r in chosen):
                for key in ("p50_s", "p99_s", "max_s", "throughput_per_s", "emit_rate_per_s",
                            "last_receipt_after_last_send_s"):
                    entry[f"messages_{key}"] = spread([r["messages"][key] for r in chosen if r.get("messages")])
                entry["messages_all_delivered"] = all(
                    r["messages"]["distinct"] == r["messages"]["received"] for r in chosen if r.get("messages"))
                entry["messages_received"] = [r["messages"]["received"] for r in chosen if r.get("messages")]
            if any(r.get("boundary") for r in chosen):
                for key in ("p50_s", "p99_s", "max_s", "throughput_per_s", "last_arrival_after_last_send_s"):
                    entry[f"boundary_{key}"] = spread([r["boundary"][key] for r in chosen if r.get("boundary")])
            if any(r.get("logs") for r in chosen):
                entry["logs"] = [r["logs"] for r in chosen if r.get("logs")]
            summary[scenario][system] = entry
        floor = (summary[scenario].get(BASELINE) or {}).get("added_s")
        if floor:
            summary[scenario]["added_over_dagster_local_s"] = {
                system: summary[scenario][system]["added_s"]["median"] - floor["median"]
                for system in SYSTEMS if (summary[scenario].get(system) or {}).get("added_s")}
        # Ratios dagster-slurm / slurm-pipes of the medians, from this same run.
        a, b = summary[scenario].get("slurm-pipes"), summary[scenario].get("dagster-slurm")
        if a and b:
            ratios = {}
            for key, va in a.items():
                vb = b.get(key)
                if isinstance(va, dict) and isinstance(vb, dict) and "median" in va and va["median"]:
                    ratios[key] = vb["median"] / va["median"]
            summary[scenario]["ratio_dagster_slurm_over_slurm_pipes"] = ratios
    cold = {}
    for scenario in SINGLE_SCENARIOS:
        for system in SYSTEMS:
            for r in runs:
                if r["system"] == system and r["scenario"] == scenario and r["rep"] == "cold" and r.get("success"):
                    step = next(iter(r["steps"].values()))
                    cold.setdefault(scenario, {})[system] = {
                        "wall_s": step.get("wall_s"), "overhead_s": step.get("overhead_s"),
                        "ssh_auths": r["ssh"]["auths"], "ssh_sessions": r["ssh"]["sessions"]}
    summary["cold_first_run"] = cold
    summary["connections"] = {}
    for system, kind in (("slurm-pipes", "mux daemon"), ("dagster-slurm", "ssh ControlMaster")):
        items = [c for c in bench.connections if c["system"] == system]
        summary["connections"][system] = {
            "kind": kind,
            "peak_rss_bytes": spread([c["peak_rss_bytes"] for c in items]),
            "cpu_s": spread([c["cpu_s"] for c in items]),
            "instances": len(items),
        }
    return summary


def summarize_profiles(profiles: list[dict]) -> dict:
    out = {}
    for scenario in ("trivial", "paced"):
        chosen = [p for p in profiles if p["scenario"] == scenario and "phases_ms" in p]
        if not chosen:
            continue
        phases = {k: spread([p["phases_ms"][k] for p in chosen]) for k in chosen[0]["phases_ms"]}
        after: dict[str, list[float]] = {}
        for p in chosen:
            for c in p["commands_after_job_end"]:
                after.setdefault(c["label"], []).append(c["ms"])
        out[scenario] = {"runs": len(chosen), "phases_ms": phases,
                         "commands_before_sbatch": chosen[0]["commands_before_sbatch"],
                         "commands_after_job_end_ms": {k: spread(v) for k, v in after.items()},
                         "squeue_polls_s_after_job_start": [p["squeue_polls"] for p in chosen],
                         "remote_channels": spread([p["remote_channels"] for p in chosen]),
                         "runs_detail": chosen}
    return out


def targets(summary: dict) -> list[dict]:
    out = []

    def med(scenario, system, key):
        value = summary.get(scenario, {}).get(system, {}).get(key)
        return value["median"] if isinstance(value, dict) else None

    def mx(scenario, system, key):
        value = summary.get(scenario, {}).get(system, {}).get(key)
        return value["max"] if isinstance(value, dict) else None

    sp, ds = med("trivial", "slurm-pipes", "overhead_s"), med("trivial", "dagster-slurm", "overhead_s")
    out.append({"target": "overhead per asset <= 1/10 of dagster-slurm's", "scenario": "trivial",
                "value": sp, "reference": ds, "limit": ds / 10 if ds else None,
                "met": sp is not None and ds is not None and sp <= ds / 10})
    out.append({"target": "overhead per asset < 0.5 s", "scenario": "trivial", "value": sp, "limit": 0.5,
                "met": sp is not None and sp < 0.5})
    # Not a target of its own: the overhead without Slurm's scheduling (submit -> start), which no
    # client controls, shows how much of a miss is the bridge's.
    own = med("trivial", "slurm-pipes", "overhead_less_queue_s")
    own_ds = med("trivial", "dagster-slurm", "overhead_less_queue_s")
    out.append({"target": "(for reference) overhead less Slurm's scheduling < 0.5 s", "scenario": "trivial",
                "value": own, "reference": own_ds, "limit": 0.5, "met": own is not None and own < 0.5})
    sp20 = med("twenty", "slurm-pipes", "overhead_s")
    ds20 = med("twenty", "dagster-slurm", "overhead_s")
    out.append({"target": "overhead per asset <= 1/10 of dagster-slurm's and < 0.5 s (twenty assets)",
                "scenario": "twenty", "value": sp20, "reference": ds20,
                "limit": min(0.5, ds20 / 10) if ds20 else 0.5,
                "met": sp20 is not None and ds20 is not None and sp20 <= ds20 / 10 and sp20 < 0.5})
    delay = med("trivial", "slurm-pipes", "job_end_to_step_end_s")
    out.append({"target": "job end -> Dagster step end < 100 ms", "scenario": "trivial", "value": delay,
                "worst": mx("trivial", "slurm-pipes", "job_end_to_step_end_s"), "limit": 0.1,
                "met": delay is not None and delay < 0.1})
    p99 = med("paced", "slurm-pipes", "messages_p99_s")
    out.append({"target": "message latency p99 < 100 ms", "scenario": "paced (100 messages/s)", "value": p99,
                "worst": mx("paced", "slurm-pipes", "messages_p99_s"), "limit": 0.1, "met": p99 is not None and p99 < 0.1})
    tput = med("messages", "slurm-pipes", "boundary_throughput_per_s")
    out.append({"target": ">= 20,000 messages/s relayed (bridge to Dagster's message file)", "scenario": "messages",
                "value": tput, "limit": 20_000, "met": tput is not None and tput >= 20_000})
    auths = mx("twenty", "slurm-pipes", "ssh_auths_per_run")
    out.append({"target": "one SSH authentication for all twenty assets", "scenario": "twenty", "value": auths,
                "limit": 1, "met": auths == 1})
    peaks = [summary.get(s, {}).get("slurm-pipes", {}).get("bridge_peak_rss_bytes") for s in [*SINGLE_SCENARIOS, "twenty"]]
    peak = max((p["max"] for p in peaks if p), default=None)
    daemon = summary["connections"]["slurm-pipes"]["peak_rss_bytes"]
    out.append({"target": "bridge peak memory < 100 MB (1e8 bytes; each bridge process)", "scenario": "all",
                "value": peak, "limit": 100e6, "met": peak is not None and peak < 100e6,
                "daemon_peak_rss_bytes": daemon["max"] if daemon else None})
    return out


def machine_info(cluster: Cluster) -> dict:
    def cmd(*argv, env=None):
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env, check=False)
            return (result.stdout or result.stderr).strip()
        except OSError:
            return None

    cpu = None
    try:
        cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M).group(1)
    except (OSError, AttributeError):
        pass
    mem = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    import dagster  # noqa: PLC0415
    from importlib.metadata import version  # noqa: PLC0415

    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_bytes": int(mem.group(1)) * 1024 if mem else None,
        "kernel": platform.release(), "os": cmd("sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"),
        "node": cmd("node", "--version"), "python": platform.python_version(), "dagster": dagster.__version__,
        "dagster_pipes": version("dagster-pipes"), "dagster_slurm": version("dagster-slurm"),
        "slurm": cmd("sinfo", "--version", env=cluster.slurm_env), "openssh": cmd("ssh", "-V"),
        "git_commit": cmd("git", "-C", str(REPO), "rev-parse", "HEAD"),
        "git_uncommitted_files": len((cmd("git", "-C", str(REPO), "status", "--porcelain") or "").splitlines()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True)
    parser.add_argument("--cluster-env", required=True)
    parser.add_argument("--deployed-env", required=True)
    parser.add_argument("--bridge", required=True, help="JSON argv that starts the bridge")
    parser.add_argument("--mux-dir", required=True)
    parser.add_argument("--control-dir", required=True)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--twenty-reps", type=int, default=3)
    parser.add_argument("--baseline-reps", type=int, default=3)
    parser.add_argument("--max-concurrent", type=int, default=4)
    parser.add_argument("--profile-reps", type=int, default=3)
    args = parser.parse_args()

    bench = Bench(args)
    started = dt.datetime.now(dt.timezone.utc)
    load_before = os.getloadavg()
    log(f"scratch: {bench.work}")
    try:
        bench.execute()
    finally:
        bench.reset_connections("end")
    summary = aggregate(bench)
    result = {
        "schema": 1,
        "started_utc": started.isoformat(timespec="seconds"),
        "duration_s": bench.duration,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "machine": machine_info(bench.cluster),
        "config": {
            "reps": args.reps, "twenty_reps": args.twenty_reps, "baseline_reps": args.baseline_reps,
            "max_concurrent": args.max_concurrent, "bridge": bench.bridge[-1],
            "queue": {"cpus": 1, "mem": "256M", "time_limit": "00:05:00"},
            "ssh": {"auth": "publickey", "host_key_checking": "strict",
                    "max_sessions": bench.cluster.env.get("SLURM_PIPES_SSH_MAX_SESSIONS")},
            "payloads": {"trivial": "one materialization", "paced": "200 log messages at 100/s",
                         "messages": "10,000 log messages as fast as dagster-pipes writes them",
                         "logs": "10,000,000 bytes printed to stdout (100,000 lines)",
                         "twenty": "twenty trivial assets in one run, multiprocess executor"},
        },
        "summary": summary,
        "targets": targets(summary),
        "profile": summarize_profiles(bench.profiles),
        "connections": bench.connections,
        "runs": bench.runs,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=1) + "\n")
    log(f"wrote {args.output} ({bench.duration:.0f} s of runs)")
    shutil.rmtree(bench.work, ignore_errors=True)


if __name__ == "__main__":
    main()
