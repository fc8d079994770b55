"""The context object a handler receives beside its event, with the members Lambda's Python
runtime gives it (AWS Lambda Developer Guide, 'Using the Lambda context object to retrieve Python
function information')."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from typing import Any

__all__ = ["LambdaContext"]


class LambdaContext:
    """One invocation's context: its request id, the function's name, version, ARN and memory,
    its log group and stream, and how much of its timeout is left."""

    def __init__(
        self, function_name: str, function_arn: str, memory_limit_in_mb: int, timeout: float
    ) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_arn
        self.memory_limit_in_mb = memory_limit_in_mb
        self.log_group_name = f"/aws/lambda/{function_name}"
        # Lambda's stream name form: date/[version]instance id.
        day = datetime.now(timezone.utc).strftime("%Y/%m/%d")
        self.log_stream_name = f"{day}/[$LATEST]{uuid.uuid4().hex}"
        self.identity: Any = None
        self.client_context: Any = None
        # Real time, not the broker's clock: the timeout bounds how long the handler really runs.
        self._deadline = time.monotonic() + timeout

    @property
    def function_arn(self) -> str:
        """The invoked function's ARN (``invoked_function_arn``)."""
        return self.invoked_function_arn

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function times out (0 once it has)."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext(function_name={self.function_name!r}, aws_request_id={self.aws_request_id!r})"
