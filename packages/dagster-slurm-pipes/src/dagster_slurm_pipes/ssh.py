"""SSH connection settings for the login node, as in dagster-slurm's SSHConnectionResource."""

from __future__ import annotations

import os
from typing import Any, Literal, Optional

from dagster import Config, ConfigurableResource
from pydantic import Field

HostKeyChecking = Literal["strict", "accept-new", "off"]


class SSHJumpHost(Config):
    """A bastion the bridge connects through (ProxyJump)."""

    host: str
    port: int = 22
    user: str
    key_path: Optional[str] = None
    key_passphrase: Optional[str] = None
    password: Optional[str] = None

    def to_bridge_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"host": self.host, "port": self.port, "user": self.user}
        for field, key in (("key_path", "keyPath"), ("key_passphrase", "keyPassphrase"), ("password", "password")):
            if getattr(self, field) is not None:
                config[key] = getattr(self, field)
        return config


class SSHConnectionResource(ConfigurableResource):
    """How the bridge reaches the cluster's login node.

    The bridge keeps one ssh2 connection per user@host:port, shared by every asset through its
    local multiplexing daemon. Secrets (``password``, ``key_passphrase``, ``otp``) are handed to
    the bridge in its environment, never in argv or files.
    """

    host: str = Field(description="Login node host name or address.")
    port: int = Field(default=22, description="SSH port.")
    user: str = Field(description="User name on the cluster.")
    key_path: Optional[str] = Field(default=None, description="Private key file.")
    key_passphrase: Optional[str] = Field(default=None, description="Passphrase of key_path.")
    password: Optional[str] = Field(default=None, description="Password (or the first factor).")
    otp: Optional[str] = Field(default=None, description="One-time code answering a keyboard-interactive OTP prompt.")
    use_agent: bool = Field(default=True, description="Offer keys from ssh-agent (SSH_AUTH_SOCK).")
    jump_host: Optional[SSHJumpHost] = Field(default=None, description="A bastion to connect through.")
    host_key_checking: HostKeyChecking = Field(default="strict", description="strict | accept-new | off.")
    known_hosts_file: Optional[str] = Field(default=None, description="known_hosts file (default ~/.ssh/known_hosts).")
    keepalive_interval_seconds: float = Field(default=15.0, description="SSH keepalive interval.")

    @classmethod
    def from_env(cls, prefix: str = "SLURM_SSH") -> "SSHConnectionResource":
        """Reads ``{prefix}_HOST``, ``_PORT``, ``_USER``, ``_KEY``, ``_KEY_PASSPHRASE``, ``_PASSWORD``,
        ``_OTP``, ``_HOST_KEY_CHECKING``, ``_KNOWN_HOSTS`` and ``{prefix}_JUMP_*``. Blank counts as unset."""

        def get(name: str) -> Optional[str]:
            value = os.environ.get(f"{prefix}_{name}", "").strip()
            return value or None

        host, user = get("HOST"), get("USER")
        missing = [f"{prefix}_{n}" for n, v in (("HOST", host), ("USER", user)) if v is None]
        if missing:
            raise ValueError(f"SSHConnectionResource.from_env: set {', '.join(missing)} (or pass the fields explicitly)")
        kwargs: dict[str, Any] = {"host": host, "user": user}
        port = get("PORT")
        if port is not None:
            if not port.isdigit():
                raise ValueError(f"{prefix}_PORT must be a port number, got {port!r}")
            kwargs["port"] = int(port)
        for env_name, field in (
            ("KEY", "key_path"),
            ("KEY_PASSPHRASE", "key_passphrase"),
            ("PASSWORD", "password"),
            ("OTP", "otp"),
            ("HOST_KEY_CHECKING", "host_key_checking"),
            ("KNOWN_HOSTS", "known_hosts_file"),
        ):
            value = get(env_name)
            if value is not None:
                kwargs[field] = value
        if get("JUMP_HOST") is not None:
            jump_user = get("JUMP_USER") or user
            jump_port = get("JUMP_PORT")
            kwargs["jump_host"] = SSHJumpHost(
                host=get("JUMP_HOST"),
                user=jump_user,
                port=int(jump_port) if jump_port else 22,
                key_path=get("JUMP_KEY"),
                password=get("JUMP_PASSWORD"),
            )
        return cls(**kwargs)

    def to_bridge_config(self) -> dict[str, Any]:
        """The ``ssh`` section of the bridge configuration (secrets included: it travels by env)."""
        config: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "hostKeyPolicy": self.host_key_checking,
            "useAgent": self.use_agent,
            "keepaliveIntervalMs": int(self.keepalive_interval_seconds * 1000),
        }
        for field, key in (
            ("key_path", "keyPath"),
            ("key_passphrase", "keyPassphrase"),
            ("password", "password"),
            ("otp", "otp"),
            ("known_hosts_file", "knownHostsPath"),
        ):
            value = getattr(self, field)
            if value is not None:
                config[key] = value
        if self.jump_host is not None:
            config["jumpHost"] = self.jump_host.to_bridge_config()
        return config
