"""The benchmark's Dagster definitions: the same assets and payloads for both systems.

BENCH_SYSTEM picks the ComputeResource: ``slurm-pipes`` (dagster_slurm_pipes, this repository's
bridge) or ``dagster-slurm`` (the reference, from PyPI). Both use ``mode="slurm"``, the same
queue settings, key authentication with strict host key checking against the bench cluster's
known_hosts, and the same Python environment deployed on the cluster beforehand (so neither packs
or ships one). Everything else is each system's default. ``dagster-local`` is the floor: Dagster's
own PipesSubprocessClient running the payload on this machine, no Slurm, no SSH.

Environment (bench/run.sh and bench/bench.py set it):
  BENCH_SYSTEM          slurm-pipes | dagster-slurm
  BENCH_CLUSTER_ENV     the cluster.env native-up.sh wrote
  BENCH_DEPLOYED_ENV    the pre-deployed environment on the cluster (activate.sh and env/bin/python)
  BENCH_BRIDGE          JSON argv that starts the slurm-pipes bridge
"""


import json
import os
from pathlib import Path

import dagster as dg

REPO = Path(__file__).resolve().parents[1]
PAYLOADS = REPO / "test" / "fixtures" / "bench-payloads"
SYSTEM = os.environ.get("BENCH_SYSTEM", "slurm-pipes")
FAN_OUT = 20
MESSAGES = 10_000
PACED = {"count": 200, "interval": 0.01}  # 100 messages a second for 2 s
LOG_BYTES = 10_000_000


class LocalCompute(dg.ConfigurableResource):
    """Dagster's PipesSubprocessClient on this machine: what Dagster costs without any cluster."""

    python: str

    def run(self, context, payload_path, extras=None):
        client = dg.PipesSubprocessClient()
        return client.run(context=context, command=[self.python, payload_path], extras=extras or {})


def _cluster():
    values = {}
    for line in Path(os.environ["BENCH_CLUSTER_ENV"]).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


def _compute():
    cluster = _cluster()
    deployed = os.environ["BENCH_DEPLOYED_ENV"]
    common_ssh = {
        "host": cluster["SLURM_SSH_HOST"],
        "port": int(cluster["SLURM_SSH_PORT"]),
        "user": cluster["SLURM_SSH_USER"],
        "key_path": cluster["SLURM_SSH_KEY"],
        "host_key_checking": "strict",
        "known_hosts_file": cluster["SLURM_SSH_KNOWN_HOSTS"],
    }
    queue = {"partition": cluster.get("SLURM_PIPES_SLURM_PARTITION", "debug"), "cpus": 1, "mem": "256M",
             "time_limit": "00:05:00"}
    if SYSTEM == "slurm-pipes":
        import dagster_slurm_pipes as sp

        slurm = sp.SlurmResource(
            ssh=sp.SSHConnectionResource(**common_ssh, use_agent=False),
            queue=sp.SlurmQueueConfig(**queue),
            # The same interpreter dagster-slurm's pre-deployed path runs: <deployed>/env/bin/python.
            pre_deployed_env_path=f"{deployed}/env",
        )
        return sp.ComputeResource(mode="slurm", slurm=slurm, bridge_command=json.loads(os.environ["BENCH_BRIDGE"]))
    if SYSTEM == "dagster-slurm":
        import dagster_slurm as ds

        slurm = ds.SlurmResource(ssh=ds.SSHConnectionResource(**common_ssh), queue=ds.SlurmQueueConfig(**queue))
        return ds.ComputeResource(
            mode="slurm", slurm=slurm, default_launcher=ds.BashLauncher(), pre_deployed_env_path=deployed
        )
    if SYSTEM == "dagster-local":
        return LocalCompute(python=f"{deployed}/env/bin/python")
    raise ValueError(f"BENCH_SYSTEM must be slurm-pipes, dagster-slurm or dagster-local, got {SYSTEM!r}")


def _run(context: dg.AssetExecutionContext, compute, payload: str, extras=None):
    result = compute.run(context, str(PAYLOADS / payload), extras=extras or {})
    # dagster-slurm returns the completed invocation, slurm-pipes an iterator of results.
    return result.get_results() if hasattr(result, "get_results") else result


@dg.asset(required_resource_keys={"compute"})
def bench_trivial(context: dg.AssetExecutionContext):
    yield from _run(context, context.resources.compute, "trivial.py")


@dg.asset(required_resource_keys={"compute"})
def bench_messages(context: dg.AssetExecutionContext):
    yield from _run(context, context.resources.compute, "messages.py", {"count": MESSAGES})


@dg.asset(required_resource_keys={"compute"})
def bench_paced(context: dg.AssetExecutionContext):
    yield from _run(context, context.resources.compute, "messages.py", PACED)


@dg.asset(required_resource_keys={"compute"})
def bench_logs(context: dg.AssetExecutionContext):
    yield from _run(context, context.resources.compute, "logs.py", {"bytes": LOG_BYTES})


def _fan_asset(i: int):
    @dg.asset(name=f"bench_fan_{i:02d}", required_resource_keys={"compute"})
    def _asset(context: dg.AssetExecutionContext):
        yield from _run(context, context.resources.compute, "trivial.py", {"i": i})

    return _asset


FAN = [_fan_asset(i) for i in range(FAN_OUT)]
SINGLE = {"trivial": bench_trivial, "paced": bench_paced, "messages": bench_messages, "logs": bench_logs}

defs = dg.Definitions(
    assets=[bench_trivial, bench_paced, bench_messages, bench_logs, *FAN],
    resources={"compute": _compute()},
    jobs=[dg.define_asset_job("bench_twenty", selection=[a.key for a in FAN], executor_def=dg.multiprocess_executor)],
)
