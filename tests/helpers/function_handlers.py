"""Handlers a process pool can run: defs at the top level of an importable module (a pool's
child imports them by module path). What they do is driven by the event, and what they did is
left in files, the only thing a child shares with the test."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

#: How long a handler told to hang keeps its child busy at most (never reached when the pool
#: stops it, which is what the tests check).
HANG = 300.0


def echo(event: Any, context: Any) -> Any:
    """Return the event, with the process it ran in."""
    return {"event": event, "pid": os.getpid(), "function": context.function_name}


def act(event: Any, context: Any) -> None:
    """For each SQS record whose body is ``{"do": ..., "dir": ...}``: write ``<dir>/<id>.pid``,
    then ``hang`` (sleep), ``exit`` (os._exit(7)), ``segfault`` (SIGSEGV), ``raise``, or
    ``ok`` (write ``<dir>/<id>.done``)."""
    for record in event["Records"]:
        order = json.loads(record["body"])
        folder = Path(order["dir"])
        (folder / f"{order['id']}.pid").write_text(str(os.getpid()))
        action = order["do"]
        if action == "hang":
            time.sleep(HANG)
        elif action == "exit":
            os._exit(7)
        elif action == "segfault":
            os.kill(os.getpid(), signal.SIGSEGV)
        elif action == "raise":
            raise RuntimeError(f"told to fail: {order['id']}")
        (folder / f"{order['id']}.done").write_text("done")
