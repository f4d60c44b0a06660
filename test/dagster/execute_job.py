"""Executes a job of a Definitions file with the multiprocess executor on a temporary instance
and writes Dagster's own event log as JSON (the same shape as materialize.py's runs).

Usage: python execute_job.py --definitions defs.py --job NAME --output out.json [--max-concurrent N]
"""

import argparse
import json
import tempfile
from pathlib import Path

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableRepository

from materialize import describe_entry  # noqa: E402  (same directory)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--definitions", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--max-concurrent", type=int, default=4)
    args = parser.parse_args()

    repo = ReconstructableRepository.for_file(str(Path(args.definitions).resolve()), "defs")
    job = repo.get_reconstructable_job(args.job)
    with tempfile.TemporaryDirectory() as home:
        with dg.DagsterInstance.local_temp(tempdir=home) as instance:
            run_config = {"execution": {"config": {"max_concurrent": args.max_concurrent}}}
            with dg.execute_job(job, instance=instance, run_config=run_config, raise_on_error=False) as result:
                run = {
                    "name": args.job,
                    "run_id": result.run_id,
                    "success": result.success,
                    "events": [describe_entry(e) for e in instance.all_logs(result.run_id)],
                    "captured_stdout": "",
                    "captured_stderr": "",
                }
    Path(args.output).write_text(json.dumps({"dagster_version": dg.__version__, "runs": [run]}, indent=1))


if __name__ == "__main__":
    main()
