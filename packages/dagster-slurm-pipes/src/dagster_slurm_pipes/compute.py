"""The facade assets depend on: run a payload locally or on Slurm through the bridge."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from enum import Enum
from typing import Any, Optional, Union

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    ConfigurableResource,
    MaterializeResult,
    OpExecutionContext,
    PipesSubprocessClient,
)
from pydantic import Field

from .bridge import find_bridge_command
from .slurm import SlurmResource

# The bridge reads its whole configuration from this variable. It travels in the environment,
# never in argv, because it may carry SSH secrets.
CONFIG_ENV_VAR = "SLURM_PIPES_CONFIG_JSON"


def reattach_key(context: Union[AssetExecutionContext, OpExecutionContext]) -> str:
    """What a re-launch of a step is matched by to reattach to its Slurm job: Dagster's root run id.

    A retry of a step keeps the run id; a re-execution (from failure, or a run retry) is a new
    run whose ``dagster/root_run_id`` tag names the first run. The bridge keys the step's run
    directory on the cluster by this, so either finds the job an earlier launch left running
    instead of submitting it again.
    """
    run = context.run
    return run.tags.get("dagster/root_run_id") or run.root_run_id or run.run_id


class ExecutionMode(str, Enum):
    """Where payloads run."""

    LOCAL = "local"
    SLURM = "slurm"


class ComputeResource(ConfigurableResource):
    """Runs a payload for an asset, locally or as a Slurm job, and returns Dagster's results.

    Usage::

        @asset
        def my_asset(context: AssetExecutionContext, compute: ComputeResource):
            yield from compute.run(context, "script.py")

    ``mode="local"`` runs the payload on this machine (no cluster). ``mode="slurm"`` submits one
    Slurm job per asset step through ``slurm``.
    """

    mode: ExecutionMode = Field(default=ExecutionMode.LOCAL, description="local | slurm.")
    slurm: Optional[SlurmResource] = Field(default=None, description="The cluster, required when mode is slurm.")
    python_executable: Optional[str] = Field(
        default=None,
        description="Python for .py payloads in local mode (default: the interpreter running Dagster).",
    )
    bridge_command: Optional[list[str]] = Field(
        default=None, description="argv that starts the slurm-pipes bridge (default: found automatically)."
    )
    forward_termination: bool = Field(
        default=True, description="Terminate in Dagster's UI cancels the payload (and its Slurm job)."
    )

    def bridge_config(
        self,
        extra_slurm_opts: Optional[Mapping[str, Any]] = None,
        extra_files: Optional[Sequence[str]] = None,
    ) -> dict[str, Any]:
        """The bridge configuration for one call (what travels in ``SLURM_PIPES_CONFIG_JSON``)."""
        mode = ExecutionMode(self.mode)
        # In Slurm mode the local Python is where the bridge finds dagster_pipes to ship when the
        # cluster's Python lacks it.
        config: dict[str, Any] = {"mode": mode.value, "local": {"python": self.python_executable or sys.executable}}
        if mode is ExecutionMode.SLURM:
            if self.slurm is None:
                raise ValueError(
                    "ComputeResource(mode='slurm') needs slurm=SlurmResource(ssh=SSHConnectionResource(...), ...)"
                )
            config["slurm"] = self.slurm.to_bridge_config()
        if extra_slurm_opts:
            config["extraSlurmOpts"] = dict(extra_slurm_opts)
        if extra_files:
            config["extraFiles"] = [os.path.abspath(f) for f in extra_files]
        return config

    def get_pipes_client(self, extra_env: Optional[Mapping[str, str]] = None) -> PipesSubprocessClient:
        """The ``PipesSubprocessClient`` that launches the bridge."""
        return PipesSubprocessClient(env=dict(extra_env or {}), forward_termination=self.forward_termination)

    def run(
        self,
        context: Union[AssetExecutionContext, OpExecutionContext],
        payload_path: str,
        extra_slurm_opts: Optional[Mapping[str, Any]] = None,
        extra_env: Optional[Mapping[str, str]] = None,
        extras: Optional[Mapping[str, Any]] = None,
        extra_files: Optional[Sequence[str]] = None,
        payload_args: Optional[Sequence[str]] = None,
    ) -> Iterator[Union[MaterializeResult, AssetCheckResult]]:
        """Runs ``payload_path`` (a Python script, a Node/TypeScript worker, or any executable) and
        returns the materializations and check results it reported.

        The payload runs when this is called; iterate the result (``yield from``) to hand the
        results to Dagster. ``extra_env`` reaches the payload's environment; ``extras`` its Pipes
        context; ``extra_slurm_opts`` overrides the queue defaults for this call (Slurm mode).
        """
        if not os.path.exists(payload_path):
            raise FileNotFoundError(
                f"payload_path {payload_path!r} does not exist (resolved against {os.getcwd()!r})"
            )
        config = self.bridge_config(extra_slurm_opts=extra_slurm_opts, extra_files=extra_files)
        config["reattachKey"] = reattach_key(context)
        env = {CONFIG_ENV_VAR: json.dumps(config)}
        if extra_env:
            env["SLURM_PIPES_PAYLOAD_ENV_JSON"] = json.dumps(dict(extra_env))
        command = [
            *find_bridge_command(self.bridge_command),
            "run",
            "--",
            os.path.abspath(payload_path),
            *(payload_args or []),
        ]
        invocation = self.get_pipes_client(env).run(context=context, command=command, extras=extras)
        return iter(invocation.get_results())
