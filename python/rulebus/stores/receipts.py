"""Message ids and receipt handles: what every store mints for a message and for each receive.

A handle names the queue, the message and one receive (a fresh nonce each time), so a store can
find the message from the handle alone and old handles keep working for delete and
change-visibility on standard queues (Amazon SQS Developer Guide, "Amazon SQS visibility
timeout"). It is URL-safe base64 so that it looks opaque, as AWS's do, and survives every
transport unchanged.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Callable

from rulebus._core import Tokens

__all__ = [
    "TOKENS",
    "make_receipt_handle",
    "new_message_id",
    "parse_receipt_handle",
    "receipt_handle_with_token",
    "sequence_number",
]

_HANDLE_PREFIX = "rb1"


def _token_prefix() -> str:
    """A random prefix shaped as the first 24 digits of a version-4 UUID."""
    digits = os.urandom(10).hex()
    variant = "89ab"[int(digits[15], 16) & 3]
    return f"{digits[:8]}-{digits[8:12]}-4{digits[12:15]}-{variant}{digits[16:19]}-"


# Unique tokens, cheaply: a random 74-bit prefix per process and a counter in the last 12 digits
# (uuid4 costs a system call per id, and ids and handle nonces are minted once or twice per
# message). The prefix is drawn again in a forked child, so processes sharing a SQLite file never
# collide. Native, so that the memory store's fan-out mints ids without Python.
TOKENS = Tokens(_token_prefix())
if hasattr(os, "register_at_fork"):  # POSIX; elsewhere there is no fork to survive
    os.register_at_fork(after_in_child=lambda: TOKENS.reseed(_token_prefix()))


#: A message id: UUID-shaped, as SQS's are, and unique across processes.
new_message_id: Callable[[], str] = TOKENS.next


# base64's urlsafe decoding, minus its layers of argument coercion (a handle is parsed once per
# message; the native Tokens.receipt_handle writes them).
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


# Handles minted by this process, most recent first to go: what parse_receipt_handle would find
# in them. Most handles come back to the process that minted them (to delete the message), and a
# look-up is cheaper than decoding; bounded, and a miss only means decoding.
_MINTED: dict[str, tuple[str, str]] = {}
_MINTED_MAX = 65_536


_mint_handle = TOKENS.receipt_handle


def make_receipt_handle(queue: str, message_id: str) -> str:
    """A new receipt handle for one receive of ``message_id`` from ``queue``: URL-safe base64 of
    f"{_HANDLE_PREFIX}\n{queue}\n{message_id}\n{a new token}", written natively."""
    handle = _mint_handle(queue, message_id)
    if len(_MINTED) >= _MINTED_MAX:
        _MINTED.clear()
    _MINTED[handle] = (queue, message_id)
    return handle


def receipt_handle_with_token(queue: str, message_id: str, token: str) -> str:
    """The receipt handle :func:`make_receipt_handle` would write with ``token`` as its new token:
    for a store that must remember a receive's handles before it knows their messages (a FIFO
    ReceiveRequestAttemptId replays them), so draws the tokens first."""
    raw = f"{_HANDLE_PREFIX}\n{queue}\n{message_id}\n{token}".encode()
    handle = base64.urlsafe_b64encode(raw).decode("ascii")
    if len(_MINTED) >= _MINTED_MAX:
        _MINTED.clear()
    _MINTED[handle] = (queue, message_id)
    return handle


def parse_receipt_handle(handle: str) -> tuple[str, str] | None:
    """``(queue, message_id)`` of a handle this module minted, or None for anything else."""
    if not isinstance(handle, str) or not handle or len(handle) > 1024:
        return None
    minted = _MINTED.get(handle)
    if minted is not None:
        return minted
    try:
        raw = binascii.a2b_base64(handle.encode("ascii").translate(_FROM_URLSAFE)).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    parts = raw.split("\n")
    if len(parts) != 4 or parts[0] != _HANDLE_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


# Sequence numbers are decimal strings of 20 digits, as AWS's look; the offset keeps them that long.
_SEQUENCE_BASE = 10**19


def sequence_number(counter: int) -> str:
    """A FIFO queue's SequenceNumber for the store's ``counter``-th numbered message."""
    return str(_SEQUENCE_BASE + counter)
