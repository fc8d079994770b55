"""A private redis-server for the tests: Debian's package, started on a free loopback port with
its own data folder, never a shared instance (``.ci/run`` installs the package)."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from pathlib import Path

__all__ = ["RedisCluster", "RedisServer", "redis_server_missing"]


def redis_server_missing() -> str | None:
    """Why no redis-server can be started here, or None."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (apt-get install redis-server)"
    return None


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port(cluster: bool = False) -> int:
    """A port free now; for a cluster node, one whose bus port (its port + 10000) is free too."""
    if not cluster:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])
    for _ in range(1000):
        port = random.randrange(20000, 30000)  # (below Linux's ephemeral ports, bus port too)
        if _bindable(port) and _bindable(port + 10000):
            return port
    raise RuntimeError("no free port")


class RedisServer:
    """One redis-server process; ``url`` once started. Persistence is off unless asked for."""

    def __init__(
        self, folder: Path, appendonly: bool = False, appendfsync: str = "everysec", cluster: bool = False
    ) -> None:
        self.folder = folder
        self.port = _free_port(cluster)
        self.appendonly = appendonly
        self.appendfsync = appendfsync
        self.extra: list[str] = []
        #: The addresses it listens on (loopback; a test of several hosts adds its veth ones).
        self.bind = ["127.0.0.1"]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            " ".join(self.bind),
            "--protected-mode",
            "no",
            "--dir",
            str(self.folder),
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--appendfsync",
            self.appendfsync,
            *self.extra,
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """Stop the server as a crash would (SIGKILL): no chance to write anything more."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


class RedisCluster:
    """Three redis-server nodes on loopback ports, joined into a Redis Cluster (no replicas), each
    with its own folder; ``url`` once started (``redis+cluster://`` with the seed nodes)."""

    def __init__(self, folder: Path, nodes: int = 3) -> None:
        self.nodes = [RedisServer(folder / f"node{n}", cluster=True) for n in range(nodes)]

    @property
    def url(self) -> str:
        seeds = ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)
        return f"redis+cluster://{seeds}/0"

    def start(self) -> None:
        for node in self.nodes:
            node.extra = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
            node.start()
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        subprocess.run(
            ["redis-cli", "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until every node agrees the cluster is up
            states = [
                subprocess.run(
                    ["redis-cli", "-p", str(node.port), "cluster", "info"], capture_output=True, text=True
                ).stdout
                for node in self.nodes
            ]
            if all("cluster_state:ok" in state for state in states):
                return
            time.sleep(0.1)
        raise RuntimeError("the Redis Cluster did not come up")

    def flush(self) -> None:
        for node in self.nodes:
            subprocess.run(["redis-cli", "-p", str(node.port), "flushall"], capture_output=True)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
