"""Run Dagster assets locally or on Slurm through the slurm-pipes bridge."""

from .compute import ComputeResource, ExecutionMode
from .bridge import BridgeNotFoundError, find_bridge_command
from .slurm import SlurmQueueConfig, SlurmResource
from .ssh import SSHConnectionResource

__all__ = [
    "BridgeNotFoundError",
    "ComputeResource",
    "ExecutionMode",
    "SSHConnectionResource",
    "SlurmQueueConfig",
    "SlurmResource",
    "find_bridge_command",
]
