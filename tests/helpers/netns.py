"""Several "hosts" on one machine: Linux network namespaces joined to the test's own namespace by
veth pairs (loopback and veth only; nothing leaves the machine). Each host gets its own address
on its own /30; the root side's address is where a server for it listens.

Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2; ``hosts_missing()`` says why not
otherwise, for the tests to skip with that reason.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["Host", "hosts", "hosts_missing"]


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)


def hosts_missing() -> str | None:
    """Why network namespaces cannot be made here, or None."""
    if shutil.which("ip") is None:
        return "iproute2's ip is not installed"
    probe = f"rbprobe{os.getpid()}"
    made = _ip("netns", "add", probe)
    if made.returncode != 0:
        return f"network namespaces cannot be made here: {made.stderr.strip()}"
    _ip("netns", "del", probe)
    return None


@dataclass(frozen=True)
class Host:
    """One namespace: ``address`` is its own, ``server`` the root side's (where it connects to)."""

    namespace: str
    address: str
    server: str

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run inside the namespace."""
        return ["ip", "netns", "exec", self.namespace, *argv]


@contextmanager
def hosts(count: int) -> Iterator[list[Host]]:
    """``count`` namespaces, each on a veth pair to this one; all removed afterwards."""
    tag = f"{os.getpid() % 10000}{random.randrange(100)}"
    subnet = random.randrange(16, 250)
    made: list[Host] = []
    try:
        for n in range(count):
            namespace, outer, inner = f"rb{tag}h{n}", f"rb{tag}o{n}", f"rb{tag}i{n}"
            server, address = f"10.{subnet}.{n}.1", f"10.{subnet}.{n}.2"
            steps = [
                ("netns", "add", namespace),
                ("link", "add", outer, "type", "veth", "peer", "name", inner),
                ("link", "set", inner, "netns", namespace),
                ("addr", "add", f"{server}/30", "dev", outer),
                ("link", "set", outer, "up"),
                ("netns", "exec", namespace, "ip", "addr", "add", f"{address}/30", "dev", inner),
                ("netns", "exec", namespace, "ip", "link", "set", inner, "up"),
                ("netns", "exec", namespace, "ip", "link", "set", "lo", "up"),
            ]
            made.append(Host(namespace, address, server))
            for step in steps:
                done = _ip(*step)
                if done.returncode != 0:
                    raise RuntimeError(f"ip {' '.join(step)}: {done.stderr.strip()}")
        yield made
    finally:
        for n, host in enumerate(made):
            _ip("link", "del", f"rb{tag}o{n}")  # (takes its peer with it)
            _ip("netns", "del", host.namespace)
