"""Definitions whose assets run payloads through dagster_slurm_pipes.ComputeResource in local mode.

The bridge runs from this checkout's TypeScript sources (tsx), so no build is needed.
"""

import os
from pathlib import Path

import dagster as dg
from dagster_slurm_pipes import ComputeResource

REPO = Path(__file__).resolve().parents[2]
NODE = os.environ.get("SLURM_PIPES_TEST_NODE", "node")
BRIDGE = [NODE, "--conditions=@slurm-pipes/source", "--import", "tsx", str(REPO / "packages/bridge/src/cli.ts")]

compute = ComputeResource(mode="local", bridge_command=BRIDGE)
days = dg.StaticPartitionsDefinition(["2026-11-01", "2026-11-02"])


@dg.asset(partitions_def=days, check_specs=[dg.AssetCheckSpec("non_empty", asset="hello_ts")])
def hello_ts(context: dg.AssetExecutionContext, compute: ComputeResource):
    yield from compute.run(context, str(REPO / "examples/hello-worker.ts"), extras={"greeting": "from-dagster"})


@dg.asset
def hello_py(context: dg.AssetExecutionContext, compute: ComputeResource):
    yield from compute.run(context, str(REPO / "examples/hello.py"))


@dg.asset
def env_echo(context: dg.AssetExecutionContext, compute: ComputeResource):
    yield from compute.run(
        context,
        str(REPO / "test/fixtures/payloads/env_echo.py"),
        extra_env={"MY_VAR": "it's $(not) `run`"},
        extras={"n": 1, "nested": {"a": [1, 2]}},
    )


@dg.asset
def failing_ts(context: dg.AssetExecutionContext, compute: ComputeResource):
    yield from compute.run(context, str(REPO / "packages/bridge/test/fixtures/fail-after-report.ts"))


@dg.asset
def missing_payload(context: dg.AssetExecutionContext, compute: ComputeResource):
    yield from compute.run(context, str(REPO / "does/not/exist.py"))




def _fan_out_asset(i: int):
    @dg.asset(name=f"fan_{i:02d}")
    def _asset(context: dg.AssetExecutionContext, compute: ComputeResource):
        yield from compute.run(context, str(REPO / "examples/hello.py"), extras={"i": i})

    return _asset


FAN_OUT = [_fan_out_asset(i) for i in range(20)]
defs = dg.Definitions(
    assets=[hello_ts, hello_py, env_echo, failing_ts, missing_payload, *FAN_OUT],
    resources={"compute": compute},
    jobs=[dg.define_asset_job("fan_out", selection=[a.key for a in FAN_OUT])],
    executor=dg.multiprocess_executor,
)
