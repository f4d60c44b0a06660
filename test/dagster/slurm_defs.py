"""Definitions whose assets run as Slurm jobs through ComputeResource(mode="slurm").

The cluster comes from SLURM_SSH_* (SlurmResource.from_env(), as in dagster-slurm); the bridge
runs from this checkout's TypeScript sources.
"""

import os
from pathlib import Path

import dagster as dg
from dagster_slurm_pipes import ComputeResource, SlurmQueueConfig, SlurmResource, SSHConnectionResource

REPO = Path(__file__).resolve().parents[2]
NODE = os.environ.get("SLURM_PIPES_TEST_NODE", "node")
BRIDGE = [NODE, "--conditions=@slurm-pipes/source", "--import", "tsx", str(REPO / "packages/bridge/src/cli.ts")]
PAYLOADS = REPO / "test/fixtures/slurm-payloads"

ssh = SSHConnectionResource.from_env()
slurm = SlurmResource(
    ssh=ssh,
    queue=SlurmQueueConfig(cpus=1, mem="256M", time_limit="00:05:00"),
    remote_base=os.environ.get("SLURM_PIPES_TEST_REMOTE_BASE") or None,
)
compute = ComputeResource(mode="slurm", slurm=slurm, bridge_command=BRIDGE)


@dg.asset(check_specs=[dg.AssetCheckSpec("non_empty", asset="slurm_ts")])
def slurm_ts(context: dg.AssetExecutionContext, compute: ComputeResource):
    yield from compute.run(context, str(REPO / "examples/hello-worker.ts"))


@dg.asset
def slurm_py(context: dg.AssetExecutionContext, compute: ComputeResource):
    yield from compute.run(context, str(REPO / "examples/hello.py"), extra_slurm_opts={"mem": "300M"})


@dg.asset
def slurm_two_nodes(context: dg.AssetExecutionContext, compute: ComputeResource):
    yield from compute.run(context, str(PAYLOADS / "two_nodes.py"), extra_slurm_opts={"nodes": 2})


@dg.asset
def slurm_fails(context: dg.AssetExecutionContext, compute: ComputeResource):
    yield from compute.run(context, str(PAYLOADS / "fails.py"))


def _fan_out_asset(i: int):
    @dg.asset(name=f"slurm_fan_{i:02d}")
    def _asset(context: dg.AssetExecutionContext, compute: ComputeResource):
        yield from compute.run(context, str(REPO / "examples/hello.py"), extras={"i": i})

    return _asset


FAN_OUT = [_fan_out_asset(i) for i in range(20)]

defs = dg.Definitions(
    assets=[slurm_ts, slurm_py, slurm_two_nodes, slurm_fails, *FAN_OUT],
    resources={"compute": compute},
    jobs=[dg.define_asset_job("slurm_fan_out", selection=[a.key for a in FAN_OUT])],
    executor=dg.multiprocess_executor,
)
