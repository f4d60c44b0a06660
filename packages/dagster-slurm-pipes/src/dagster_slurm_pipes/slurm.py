"""Slurm queue defaults and the cluster resource, as in dagster-slurm's SlurmResource."""

from __future__ import annotations

import os
from typing import Any, Optional

from dagster import Config, ConfigurableResource
from pydantic import Field

from .ssh import SSHConnectionResource


class SlurmQueueConfig(Config):
    """Defaults for every job; ``extra_slurm_opts`` in ``ComputeResource.run`` overrides them per asset.

    Values are validated by the bridge, which names the field, the value and the fix on error.
    """

    partition: str = Field(default="", description="Partition (empty: the cluster's default).")
    num_nodes: int = Field(default=1, description="Nodes per job (sbatch --nodes).")
    time_limit: str = Field(default="00:30:00", description="Walltime, [D-]HH:MM:SS or UNLIMITED.")
    cpus: int = Field(default=2, description="CPUs per task (sbatch --cpus-per-task).")
    gpus_per_node: int = Field(default=0, description="GPUs per node (sbatch --gpus-per-node).")
    mem: Optional[str] = Field(default="4096M", description="Memory per node (sbatch --mem).")
    mem_per_cpu: Optional[str] = Field(default=None, description="Memory per CPU; excludes mem.")
    signal_before_timeout: Optional[str] = Field(default=None, description="SIG@SECONDS, e.g. USR1@120.")
    qos: Optional[str] = None
    reservation: Optional[str] = None
    account: Optional[str] = None
    constraint: Optional[str] = None
    exclusive: bool = False
    extra_directives: list[str] = Field(default_factory=list, description="Raw sbatch flags, e.g. --licenses=x:1.")

    def to_bridge_config(self) -> dict[str, Any]:
        config = self.model_dump(exclude_none=True)
        if self.mem_per_cpu is not None:
            config.pop("mem", None)
        return config


class SlurmResource(ConfigurableResource):
    """A Slurm cluster reached over SSH."""

    ssh: SSHConnectionResource
    queue: SlurmQueueConfig = Field(default_factory=SlurmQueueConfig)
    remote_base: Optional[str] = Field(
        default=None, description="Base directory on the cluster for runs and caches (default $HOME/.slurm-pipes)."
    )
    pre_deployed_env_path: Optional[str] = Field(
        default=None,
        description="A Python environment already on the cluster; its bin/python runs .py payloads (no shipping).",
    )
    python_executable: Optional[str] = Field(
        default=None, description="Python on the cluster (default python3, or pre_deployed_env_path/bin/python)."
    )
    node_executable: Optional[str] = Field(
        default=None, description="Node.js on the cluster (default node; this machine's is shipped when there is none)."
    )

    @classmethod
    def from_env(cls, ssh: Optional[SSHConnectionResource] = None) -> "SlurmResource":
        """Reads ``SLURM_SSH_*`` (unless ``ssh`` is given), ``SLURM_PARTITION``, ``SLURM_TIME``,
        ``SLURM_CPUS``, ``SLURM_MEM``, ``SLURM_MEM_PER_CPU``, ``SLURM_NUM_NODES``, ``SLURM_GPUS_PER_NODE``,
        ``SLURM_QOS``, ``SLURM_RESERVATION``, ``SLURM_ACCOUNT`` and ``SLURM_REMOTE_BASE``."""

        def get(name: str) -> Optional[str]:
            value = os.environ.get(name, "").strip()
            return value or None

        queue: dict[str, Any] = {}
        for env_name, field, kind in (
            ("SLURM_PARTITION", "partition", str),
            ("SLURM_TIME", "time_limit", str),
            ("SLURM_CPUS", "cpus", int),
            ("SLURM_MEM", "mem", str),
            ("SLURM_MEM_PER_CPU", "mem_per_cpu", str),
            ("SLURM_NUM_NODES", "num_nodes", int),
            ("SLURM_GPUS_PER_NODE", "gpus_per_node", int),
            ("SLURM_QOS", "qos", str),
            ("SLURM_RESERVATION", "reservation", str),
            ("SLURM_ACCOUNT", "account", str),
        ):
            value = get(env_name)
            if value is None:
                continue
            if kind is int and not value.isdigit():
                raise ValueError(f"{env_name} must be a whole number, got {value!r}")
            queue[field] = kind(value)
        return cls(
            ssh=ssh or SSHConnectionResource.from_env(),
            queue=SlurmQueueConfig(**queue),
            remote_base=get("SLURM_REMOTE_BASE"),
            pre_deployed_env_path=get("SLURM_PRE_DEPLOYED_ENV_PATH"),
        )

    def to_bridge_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"ssh": self.ssh.to_bridge_config(), "queue": self.queue.to_bridge_config()}
        if self.remote_base is not None:
            config["remoteBase"] = self.remote_base
        python = self.python_executable or (
            f"{self.pre_deployed_env_path.rstrip('/')}/bin/python" if self.pre_deployed_env_path else None
        )
        if python is not None:
            config["python"] = python
        if self.node_executable is not None:
            config["node"] = self.node_executable
        return config
