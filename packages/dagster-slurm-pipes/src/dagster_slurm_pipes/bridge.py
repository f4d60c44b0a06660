"""Locating the slurm-pipes bridge executable."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

BRIDGE_ENV_VAR = "SLURM_PIPES_BRIDGE"


class BridgeNotFoundError(RuntimeError):
    """The slurm-pipes bridge (a Node.js program) could not be found."""


def find_bridge_command(explicit: list[str] | None = None) -> list[str]:
    """The argv prefix that starts the bridge.

    Looked up in this order: ``explicit``; the ``SLURM_PIPES_BRIDGE`` environment variable (a
    path to the CLI script or a JSON array of argv); ``slurm-pipes`` on ``PATH``; the built CLI of
    a source checkout this package lives in (``packages/bridge/dist/slurm-pipes.js``, built by ``npm run build``).
    """
    if explicit:
        return list(explicit)
    from_env = os.environ.get(BRIDGE_ENV_VAR, "").strip()
    if from_env:
        if from_env.startswith("["):
            argv = json.loads(from_env)
            if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv) or not argv:
                raise BridgeNotFoundError(f"{BRIDGE_ENV_VAR} must be a path or a JSON array of strings")
            return argv
        return _node_argv(from_env)
    on_path = shutil.which("slurm-pipes")
    if on_path:
        return [on_path]
    checkout_cli = Path(__file__).resolve().parents[3] / "bridge" / "dist" / "slurm-pipes.js"
    if checkout_cli.is_file():
        return _node_argv(str(checkout_cli))
    raise BridgeNotFoundError(
        "The slurm-pipes bridge was not found. Install it (npm install -g @slurm-pipes/bridge), "
        f"set {BRIDGE_ENV_VAR} to its slurm-pipes.js, or pass bridge_command=[...] to ComputeResource."
    )


def _node_argv(script: str) -> list[str]:
    if script.endswith((".js", ".mjs")):
        node = shutil.which("node")
        if not node:
            raise BridgeNotFoundError("Node.js (node) is not on PATH; the slurm-pipes bridge needs Node 20 or newer.")
        return [node, script]
    return [script]
