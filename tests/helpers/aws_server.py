"""A `rulebus serve` for tests: the real ASGI server (uvicorn) on a free loopback port, in a
thread of the test process, with boto3 clients pointed at it."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import boto3
import uvicorn
from rulebus.aws.brokers import Brokers
from rulebus.aws.dispatch import Dispatcher
from rulebus.aws.server import Server
from rulebus.aws.sigv4 import SignatureVerifier


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RunningServer:
    """``with RunningServer() as server: server.client("sqs")...``"""

    def __init__(
        self,
        store: Any = None,
        account: str = "000000000000",
        verifier: SignatureVerifier | None = None,
        **server_options: Any,
    ) -> None:
        """``verifier`` checks signatures (``rulebus serve --verify-signatures``); clients then
        sign with ``access_key`` (its first key) unless told another."""
        self.port = free_port()
        self.verifier = verifier
        brokers = Brokers(store=store, endpoint_url=f"http://127.0.0.1:{self.port}")
        self.dispatcher = Dispatcher(brokers, account=account, verifier=verifier)
        self.app = Server(self.dispatcher, **server_options)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="error", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RunningServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("rulebus serve did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)

    @property
    def access_key(self) -> tuple[str, str]:
        if self.verifier is None:
            return "testing", "testing"
        return next(iter(self.verifier.keys.items()))

    def client(self, service: str, region: str = "us-east-1", key: tuple[str, str] | None = None) -> Any:
        key_id, secret = key if key is not None else self.access_key
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
        )
