"""Expecting AWS's errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from rulebus import AwsError


@contextmanager
def aws_error(code: str, message: str | None = None) -> Iterator[None]:
    """Expect an AwsError with this code (and, if given, exactly this message)."""
    with pytest.raises(AwsError) as info:
        yield
    assert info.value.code == code, info.value
    if message is not None:
        assert info.value.message == message
