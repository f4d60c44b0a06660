"""Dagster definitions whose assets run the TypeScript workers in test/fixtures/workers/ through
the real dagster.PipesSubprocessClient. Used by materialize.py (and loadable by `dagster dev -f`)."""

import json
import os
import shutil
from pathlib import Path

import dagster as dg

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKERS = REPO_ROOT / "test" / "fixtures" / "workers"
NODE = os.environ.get("SLURM_PIPES_TEST_NODE") or shutil.which("node") or "node"


def worker_command(name: str) -> list[str]:
    """The command Dagster launches: Node with the source condition and tsx, like the repo's tests."""
    return [NODE, "--conditions=@slurm-pipes/source", "--import", "tsx", str(WORKERS / name)]


class WorkerConfig(dg.Config):
    """Extras handed to the worker via client.run(extras=...), as a JSON object."""

    extras_json: str = "{}"


def _extras(config: WorkerConfig) -> dict:
    return json.loads(config.extras_json)


@dg.asset(
    code_version="v-meta",
    check_specs=[
        dg.AssetCheckSpec("passes_warn", asset="all_metadata"),
        dg.AssetCheckSpec("fails_warn", asset="all_metadata"),
        dg.AssetCheckSpec("fails_error", asset="all_metadata"),
    ],
)
def all_metadata(context: dg.AssetExecutionContext, pipes_subprocess_client: dg.PipesSubprocessClient):
    invocation = pipes_subprocess_client.run(context=context, command=worker_command("all-metadata.ts"))
    context.log.info("custom_messages=" + json.dumps(list(invocation.get_custom_messages())))
    yield from invocation.get_results()


@dg.multi_asset(
    # Output names must be identifiers; the keys themselves may contain "/" in a part.
    outs={
        "a_slash_b": dg.AssetOut(key=dg.AssetKey(["multi", "a/b"])),
        "plain": dg.AssetOut(key=dg.AssetKey(["multi", "plain"])),
    },
    # A check on ["multi", "a/b"] cannot be defined: Dagster derives an output name from the key.
    check_specs=[dg.AssetCheckSpec("multi_check", asset=dg.AssetKey(["multi", "plain"]))],
)
def multi_slash(context: dg.AssetExecutionContext, pipes_subprocess_client: dg.PipesSubprocessClient):
    yield from pipes_subprocess_client.run(context=context, command=worker_command("multi-asset.ts")).get_results()


@dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01"), code_version="v-daily")
def daily_partitioned(
    context: dg.AssetExecutionContext, config: WorkerConfig, pipes_subprocess_client: dg.PipesSubprocessClient
):
    return pipes_subprocess_client.run(
        context=context, command=worker_command("echo-context.ts"), extras=_extras(config)
    ).get_materialize_result()


@dg.asset(partitions_def=dg.StaticPartitionsDefinition(["red", "blue"]), code_version="v-static")
def static_partitioned(
    context: dg.AssetExecutionContext, config: WorkerConfig, pipes_subprocess_client: dg.PipesSubprocessClient
):
    return pipes_subprocess_client.run(
        context=context, command=worker_command("echo-context.ts"), extras=_extras(config)
    ).get_materialize_result()


@dg.asset
def fails(context: dg.AssetExecutionContext, pipes_subprocess_client: dg.PipesSubprocessClient):
    return pipes_subprocess_client.run(context=context, command=worker_command("fails.ts")).get_materialize_result()


@dg.asset
def crashes(context: dg.AssetExecutionContext, pipes_subprocess_client: dg.PipesSubprocessClient):
    return pipes_subprocess_client.run(context=context, command=worker_command("crashes.ts")).get_materialize_result()


@dg.asset
def stdio_capture(context: dg.AssetExecutionContext):
    # Not forwarded: the only way the worker's stdout/stderr reaches this process is as
    # log_external_stream messages, which Dagster writes to its own sys.stdout / sys.stderr.
    client = dg.PipesSubprocessClient(
        cwd=str(REPO_ROOT),
        message_reader=dg.PipesTempFileMessageReader(include_stdio_in_messages=True),
        forward_stdio=False,
    )
    return client.run(context=context, command=worker_command("stdio-capture.ts")).get_materialize_result()


ASSETS = [all_metadata, multi_slash, daily_partitioned, static_partitioned, fails, crashes, stdio_capture]
RESOURCES = {"pipes_subprocess_client": dg.PipesSubprocessClient(cwd=str(REPO_ROOT))}

defs = dg.Definitions(assets=ASSETS, resources=RESOURCES)
