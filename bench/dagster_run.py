"""One Dagster run of one benchmark scenario, for one system; writes what Dagster recorded as JSON.

Usage: python dagster_run.py --scenario trivial|messages|logs|twenty --output out.json
                             --stdout-file F --stderr-file F [--max-concurrent 4]

The system is BENCH_SYSTEM (see defs.py). Single-asset scenarios run with dagster.materialize on
an ephemeral (in-memory) instance, the in-process executor; "twenty" runs the bench_twenty job with
the multiprocess executor on a temporary on-disk instance. This process's stdout and stderr (file
descriptors 1 and 2, which the bridge and dagster-slurm's log tails write to) go to the given
files, so the 10 MB scenario can count what reached Dagster's process.

Output: per step the STEP_START and STEP_SUCCESS/FAILURE timestamps and the materialization
metadata; for bench-msg log records the latency (event-log timestamp - send time in the text);
this process's own rusage and its waited-for children's.

Where Dagster reads Pipes messages from a local file (slurm-pipes: the bridge writes them there;
dagster-local: the payload does), a second, independent reader of that file records when each
message became available to Dagster ("boundary"): the relay's own delivery, apart from the time
Dagster then spends handling each message. It only reads; Dagster's reader is unchanged.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
MSG = re.compile(r"^bench-msg (\d+) (\d+\.\d+)$")
WIRE_MSG = re.compile(rb'"bench-msg (\d+) (\d+\.\d+)"')


class BoundaryWatcher:
    """Tails the messages file Dagster's PipesFileMessageReader reads, recording arrival times."""

    def __init__(self):
        self.arrivals: list[tuple[int, float, float]] = []  # (index, send time, arrival time)
        self.watched = 0
        self._stop = threading.Event()
        self._thread = None

    def start(self, path: str) -> None:
        self.watched += 1
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, args=(path,), daemon=True, name="bench-boundary")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self, path: str) -> None:
        rest = b""
        with open(path, "rb") as handle:
            while True:
                chunk = handle.read(1 << 20)
                if chunk:
                    now = time.time()
                    *lines, rest = (rest + chunk).split(b"\n")
                    for line in lines:
                        match = WIRE_MSG.search(line)
                        if match:
                            self.arrivals.append((int(match.group(1)), float(match.group(2)), now))
                    continue
                if self._stop.is_set():
                    return
                time.sleep(0.001)


WATCHER = BoundaryWatcher()


def watch_file_message_readers() -> None:
    from dagster._core.pipes import utils as pipes_utils

    original = pipes_utils.PipesFileMessageReader.read_messages

    @contextmanager
    def read_messages(self, handler):
        with original(self, handler) as params:
            WATCHER.start(self._path)
            try:
                yield params
            finally:
                WATCHER.stop()

    pipes_utils.PipesFileMessageReader.read_messages = read_messages


def boundary_summary() -> dict | None:
    if not WATCHER.arrivals:
        return None
    arrivals = sorted(WATCHER.arrivals)
    return {
        "received": len(arrivals),
        "distinct": len({a[0] for a in arrivals}),
        "latencies_s": [round(a[2] - a[1], 6) for a in arrivals],
        "first_send": min(a[1] for a in arrivals),
        "last_send": max(a[1] for a in arrivals),
        "first_arrival": min(a[2] for a in arrivals),
        "last_arrival": max(a[2] for a in arrivals),
    }


def redirect(fd: int, path: str) -> None:
    handle = open(path, "wb", buffering=0)  # noqa: SIM115 (kept open for the process's lifetime)
    os.dup2(handle.fileno(), fd)


def summarize(instance, run_id: str) -> dict:
    steps: dict[str, dict] = {}
    receipts: list[tuple[int, float, float]] = []
    log_records = 0
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        step = entry.step_key
        if event is None:
            log_records += 1
            match = MSG.match(entry.user_message or "")
            if match:
                receipts.append((int(match.group(1)), float(match.group(2)), entry.timestamp))
            continue
        kind = event.event_type_value
        if step is None:
            continue
        info = steps.setdefault(step, {"start": None, "end": None, "success": None, "metadata": {}})
        if kind == "STEP_START":
            info["start"] = entry.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            info["end"] = entry.timestamp
            info["success"] = kind == "STEP_SUCCESS"
            if kind == "STEP_FAILURE":
                error = getattr(event.event_specific_data, "error", None)
                info["error"] = error.to_string() if error is not None else event.message
        elif kind == "ASSET_MATERIALIZATION":
            mat = event.step_materialization_data.materialization
            for key, value in (mat.metadata or {}).items():
                inner = getattr(value, "value", value)
                if isinstance(inner, (str, int, float, bool)) or inner is None:
                    info["metadata"][key] = inner
    messages = None
    if receipts:
        receipts.sort()
        indices = [r[0] for r in receipts]
        latencies = [r[2] - r[1] for r in receipts]
        received = sorted(r[2] for r in receipts)
        sent = sorted(r[1] for r in receipts)
        messages = {
            "received": len(receipts),
            "distinct": len(set(indices)),
            "in_order": indices == sorted(indices),
            "latencies_s": [round(x, 6) for x in latencies],
            "first_send": sent[0],
            "last_send": sent[-1],
            "first_receipt": received[0],
            "last_receipt": received[-1],
        }
    return {"steps": steps, "log_records": log_records, "messages": messages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", required=True, choices=["trivial", "paced", "messages", "logs", "twenty"])
    parser.add_argument("--output", required=True)
    parser.add_argument("--stdout-file", required=True)
    parser.add_argument("--stderr-file", required=True)
    parser.add_argument("--max-concurrent", type=int, default=4)
    args = parser.parse_args()

    redirect(1, args.stdout_file)
    redirect(2, args.stderr_file)
    started = time.time()
    import dagster as dg

    imported = time.time()
    watch_file_message_readers()
    result: dict = {"system": os.environ.get("BENCH_SYSTEM"), "scenario": args.scenario, "dagster": dg.__version__}
    if args.scenario == "twenty":
        from dagster._core.definitions.reconstruct import ReconstructableRepository

        repo = ReconstructableRepository.for_file(str(HERE / "defs.py"), "defs")
        job = repo.get_reconstructable_job("bench_twenty")
        with tempfile.TemporaryDirectory() as home:
            with dg.DagsterInstance.local_temp(tempdir=home) as instance:
                run_config = {"execution": {"config": {"max_concurrent": args.max_concurrent}}}
                run_started = time.time()
                with dg.execute_job(job, instance=instance, run_config=run_config, raise_on_error=False) as run:
                    run_ended = time.time()
                    result.update(run_id=run.run_id, success=run.success, **summarize(instance, run.run_id))
    else:
        sys.path.insert(0, str(HERE))
        import defs  # noqa: PLC0415

        asset = defs.SINGLE[args.scenario]
        with dg.DagsterInstance.ephemeral() as instance:
            run_started = time.time()
            run = dg.materialize(
                [asset], resources={"compute": defs.defs.resources["compute"]}, instance=instance, raise_on_error=False
            )
            run_ended = time.time()
            result.update(run_id=run.run_id, success=run.success, **summarize(instance, run.run_id))
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result.update(
        boundary=boundary_summary(),
        process_started=started,
        dagster_imported=imported,
        run_started=run_started,
        run_ended=run_ended,
        loadavg=os.getloadavg(),
        rusage={
            "self_cpu_s": own.ru_utime + own.ru_stime,
            "self_max_rss_bytes": own.ru_maxrss * 1024,
            "children_cpu_s": children.ru_utime + children.ru_stime,
            "children_max_rss_bytes": children.ru_maxrss * 1024,
        },
    )
    Path(args.output).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
