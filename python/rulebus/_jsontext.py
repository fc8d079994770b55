"""Reading JSON text that a client sent (a policy, a message structure, a request body, an event).

``json.loads`` counts each level of nesting against Python's recursion limit, from wherever it is
called: a document that AWS accepts (Jackson, behind AWS's services, takes up to 1,000 levels)
may then fail with a RecursionError deep in a call stack, and a deeper one fails anywhere, with
an error no caller expects of malformed text. :func:`loads` gives a document up to
:data:`MAX_DEPTH` levels the room it needs, and answers a deeper one as any other malformed
text, with a :class:`json.JSONDecodeError` (a ValueError).
"""

from __future__ import annotations

import inspect
import json
import sys
import threading
from types import FrameType
from typing import Any

__all__ = ["MAX_DEPTH", "loads"]

#: The deepest nesting read (Jackson's default limit, 'StreamReadConstraints.getMaxNestingDepth').
MAX_DEPTH = 1000

_LIMIT_LOCK = threading.Lock()


def loads(text: str | bytes | bytearray) -> Any:
    """``json.loads(text)``; a document nested too deeply is a JSONDecodeError too."""
    try:
        return json.loads(text)
    except RecursionError:
        pass
    # Only a deep document gets here: parse it again with room for MAX_DEPTH more levels than
    # the stack already holds. The limit is the process's: raised for this parse only, and put
    # back after it (under a lock, so that two deep parses do not put back each other's).
    with _LIMIT_LOCK:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, len(_frames()) + MAX_DEPTH + 50))
        try:
            return json.loads(text)
        except RecursionError:
            document = text if isinstance(text, str) else bytes(text).decode("utf-8", "replace")
            raise json.JSONDecodeError(f"JSON nested deeper than {MAX_DEPTH} levels", document, 0) from None
        finally:
            sys.setrecursionlimit(limit)


def _frames() -> list[FrameType]:
    frames = []
    frame = inspect.currentframe()
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    return frames
