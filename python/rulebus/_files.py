"""Rules and events from files, as the CLI and the benchmark harness read them.

Rules: a JSON object of name -> pattern in one file, or a directory of ``*.json`` files, one
pattern each, named by the file's stem. Events: JSON Lines from a file or standard input,
gzip-compressed or not (told by the magic bytes, not the name), read as bytes.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar, cast

GZIP_MAGIC = b"\x1f\x8b"

T = TypeVar("T")


class RulesFileError(ValueError):
    """A rules file or directory that cannot be read as name -> pattern."""


#: The prefix the AWS CLI reads a parameter's value from a file by (AWS Command Line Interface
#: User Guide, "Loading AWS CLI parameters from a file"): ``file://event.json``,
#: ``file:///tmp/event.json``.
FILE_URL_PREFIX = "file://"


def argument_text(value: str) -> str | bytes:
    """A command-line JSON argument: the text itself, ``@path`` or ``file://path`` for a file's
    bytes (``@-`` for standard input). A file that cannot be read raises ``OSError``."""
    if value.startswith(FILE_URL_PREFIX):
        return Path(value[len(FILE_URL_PREFIX) :]).expanduser().read_bytes()
    if not value.startswith("@"):
        return value
    name = value[1:]
    if name == "-":
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def load_rules(path: str | Path) -> dict[str, str | bytes]:
    """name -> pattern text, in file order (a JSON object) or by file name (a directory)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.json") if p.is_file())
        if not files:
            raise RulesFileError(f"{path}: no *.json files in this directory")
        return {p.stem: p.read_bytes() for p in files}
    try:
        data = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise RulesFileError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise RulesFileError(f"{path}: expected a JSON object of rule name -> pattern")
    rules: dict[str, str | bytes] = {}
    for name, pattern in data.items():
        # A pattern may be given as an object or as its JSON text in a string (as AWS's APIs take it).
        rules[name] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    return rules


def decompressing(stream: IO[bytes]) -> IO[bytes]:
    """The stream, decompressed when it starts with gzip's magic bytes."""
    buffered: Any = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream)
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        return cast("IO[bytes]", gzip.GzipFile(fileobj=buffered, mode="rb"))
    return cast("IO[bytes]", buffered)


def open_events(path: str | Path | None) -> IO[bytes]:
    """A binary stream of JSON Lines: the file (``None`` or ``-``: standard input)."""
    if path is None or str(path) == "-":
        return decompressing(sys.stdin.buffer)
    return decompressing(open(path, "rb"))


def event_lines(stream: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """(line number, line) for every non-blank line, newline stripped."""
    for number, line in enumerate(stream, 1):
        line = line.rstrip(b"\r\n")
        if line.strip():
            yield number, line


def read_event_lines(path: str | Path, limit: int | None = None) -> list[bytes]:
    """Every non-blank line of a JSON Lines file (gzip or not), at most ``limit`` of them."""
    with open(path, "rb") as raw:
        head = raw.read(2)
        raw.seek(0)
        data = gzip.decompress(raw.read()) if head == GZIP_MAGIC else raw.read()
    lines = [line.rstrip(b"\r") for line in data.split(b"\n") if line.strip()]
    return lines if limit is None else lines[:limit]


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of up to ``size`` items."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
