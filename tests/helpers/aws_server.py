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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RunningServer:
    """``with RunningServer() as server: server.client("sqs")...``"""

    def __init__(self, store: Any = None, account: str = "000000000000", **server_options: Any) -> None:
        self.port = free_port()
        brokers = Brokers(store=store, endpoint_url=f"http://127.0.0.1:{self.port}")
        self.dispatcher = Dispatcher(brokers, account=account)
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

    def client(self, service: str, region: str = "us-east-1") -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
