"""One Redis connection pool for a store, its scripts, its key prefix, and its errors.

Every key the store writes starts with the prefix (``rulebus:`` unless the URL's ``prefix``
says otherwise), so several stores can share one Redis database. A failure to reach Redis is a
:class:`~rulebus.StoreUnavailableError` naming the server; nothing a script does is left half
done, since Redis runs each script whole or not at all.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from rulebus._errors import StoreClosedError, StoreError, StoreUnavailableError
from rulebus.stores.base import InvalidStoreURL

__all__ = ["Connection", "ScriptError", "StoreError"]

# The stream whose entries announce changes, for long polls on every host (XREAD BLOCK).
_CHANGES = "{rb}:changes"
_CHANGES_KEPT = 1000
# Stream ids are "<ms>-<n>": a version packs them into one int (n below 2**20 per millisecond).
_SEQ_BITS = 20


class ScriptError(StoreError):
    """A script refused the step with one of rulebus's codes (``RULEBUS_NOT_FOUND``...)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code} {detail}".strip())
        self.code = code
        self.detail = detail


def _redis() -> Any:
    try:
        import redis
    except ImportError as error:  # pragma: no cover - the extra is installed with the store
        raise InvalidStoreURL(
            "a redis:// store needs the redis package: pip install 'rulebus[redis]'"
        ) from error
    return redis


def _split(url: str) -> tuple[str, str]:
    """(the URL redis-py opens, the key prefix): ``prefix`` is rulebus's own query parameter."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = "rulebus:"
    kept = []
    for name, value in query:
        if name == "prefix":
            if not value:
                raise InvalidStoreURL(f"{url!r}: prefix must not be empty")
            prefix = value if value.endswith(":") else value + ":"
        else:
            kept.append((name, value))
    scheme, netloc, path, _, fragment = parts
    return urlunsplit((scheme, netloc, path, urlencode(kept), fragment)), prefix


def _cluster(parts: Any, decode: bool) -> tuple[Any, str]:
    """A cluster client on the seed nodes of ``redis+cluster://[user:password@]host:port,host:port``
    (``rediss+cluster://`` for TLS), and the nodes as written."""
    from redis.cluster import ClusterNode, RedisCluster

    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    nodes = []
    for node in hosts.split(","):
        host, _, port = node.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"a cluster's seed node is host:port, not {node!r}")
        nodes.append(ClusterNode(host, int(port)))  # type: ignore[no-untyped-call]
    if parts.path not in ("", "/", "/0"):
        raise ValueError("a Redis Cluster has one database, 0")
    client = RedisCluster(
        startup_nodes=nodes,
        decode_responses=decode,
        username=username or None,
        password=password or None,
        ssl=parts.scheme.startswith("rediss"),
    )
    return client, hosts


class Connection:
    """The store's client: commands, scripts, the change stream, and error translation."""

    def __init__(self, url: str) -> None:
        redis = _redis()
        self._errors = redis.exceptions
        plain_url, self.prefix = _split(url)
        parts = urlsplit(plain_url)
        #: A Redis Cluster (``redis+cluster://``): no transaction spans two resources' slots.
        self.cluster = parts.scheme.endswith("+cluster")
        try:
            if self.cluster:
                self.client, self.where = _cluster(parts, decode=True)
                self.raw, _ = _cluster(parts, decode=False)
            else:
                self.where = f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
                self.client = redis.Redis.from_url(plain_url, decode_responses=True, health_check_interval=30)
                # Binary replies (a Kinesis record's data) come through a client that decodes nothing.
                self.raw = redis.Redis.from_url(plain_url, decode_responses=False, health_check_interval=30)
        except ValueError as error:
            raise InvalidStoreURL(f"{url!r}: {error}") from error
        except redis.exceptions.RedisError as error:  # a cluster's client asks its nodes at once
            raise StoreUnavailableError(
                f"the Redis Cluster at {url!r} cannot be reached ({error})", url
            ) from error
        from rulebus.stores.redis.scripts import Scripts

        self._scripts = Scripts(self.client)
        self._raw_scripts = Scripts(self.raw)
        self._changes = self.key(_CHANGES)
        self._closed = False

    def key(self, suffix: str) -> str:
        return self.prefix + suffix

    def _failed(self, error: Exception) -> StoreError:
        if isinstance(error, (self._errors.ConnectionError, self._errors.TimeoutError)):
            failure: StoreError = StoreUnavailableError(
                f"Redis at {self.where} cannot be reached ({error}): the step was not done; "
                "it can be retried once the server is back",
                self.where,
            )
        elif isinstance(error, self._errors.ResponseError) and str(error).startswith("RULEBUS_"):
            code, _, detail = str(error).partition(" ")
            failure = ScriptError(code, detail)
        else:
            failure = StoreError(f"Redis at {self.where} refused the step: {error}", self.where)
        return failure

    def _check(self) -> None:
        if self._closed:
            raise StoreClosedError("the store is closed")

    def call(self, *args: Any) -> Any:
        """One command."""
        self._check()
        try:
            return self.client.execute_command(*args)
        except self._errors.RedisError as error:
            raise self._failed(error) from error

    def pipelined(self, commands: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Several commands in one round trip (not atomic)."""
        self._check()
        if not commands:
            return []
        try:
            pipe = self.client.pipeline(transaction=False)
            for command in commands:
                pipe.execute_command(*command)
            return list(pipe.execute())
        except self._errors.RedisError as error:
            raise self._failed(error) from error

    def run(
        self, script: str, keys: Sequence[str], args: Sequence[Any], raw: bool = False, announce: bool = False
    ) -> Any:
        """Script ``script`` (a name in ``lua/``), atomically; with ``raw``, its reply as bytes;
        with ``announce``, followed in the same round trip by a change notice (:meth:`changed`),
        which goes out whether or not the script refused the step (a spurious wake-up)."""
        self._check()
        try:
            scripts = self._raw_scripts if raw else self._scripts
            if not announce:
                return getattr(scripts, script)(keys=list(keys), args=list(args))
            # EVALSHA by hand: redis-py would ask SCRIPT EXISTS on every pipeline it runs.
            loaded = getattr(scripts, script)
            for attempt in (1, 2):
                pipe = self.client.pipeline(transaction=False)
                pipe.execute_command("EVALSHA", loaded.sha, len(keys), *keys, *args)
                pipe.execute_command(*self._notice())
                # The script's own error, not the pipeline's rewording of it ("Command # 1 ...
                # caused error: RULEBUS_NOT_FOUND"), so that a refusal keeps its code.
                answer = pipe.execute(raise_on_error=False)[0]
                if isinstance(answer, self._errors.NoScriptError) and attempt == 1:
                    self.client.script_load(loaded.script)  # the server lost it (a restart)
                    continue
                if isinstance(answer, Exception):
                    raise answer
                return answer
            raise AssertionError("unreachable")
        except self._errors.RedisError as error:
            raise self._failed(error) from error

    def run_many(self, script: str, calls: Sequence[tuple[Sequence[str], Sequence[Any]]]) -> list[Any]:
        """Script ``script`` once per ``(keys, args)``, in one MULTI/EXEC with a change notice
        after them: one round trip, nothing of another client in between. A call the script
        refused comes back as its :class:`ScriptError` in its place; the others were done."""
        self._check()
        loaded = getattr(self._scripts, script)
        try:
            for attempt in (1, 2):
                # (A cluster cannot run one transaction over several queues' slots.)
                pipe = self.client.pipeline(transaction=not self.cluster)
                for keys, args in calls:
                    pipe.execute_command("EVALSHA", loaded.sha, len(keys), *keys, *args)
                pipe.execute_command(*self._notice())
                try:
                    answers = pipe.execute(raise_on_error=False)
                except self._errors.NoScriptError:
                    answers = [self._errors.NoScriptError()]
                if attempt == 1 and any(isinstance(a, self._errors.NoScriptError) for a in answers):
                    self.client.script_load(loaded.script)  # the server lost it: none ran
                    continue
                return [self._failed(a) if isinstance(a, Exception) else a for a in answers[: len(calls)]]
        except self._errors.RedisError as error:
            raise self._failed(error) from error
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ changes (long polls)

    def _notice(self) -> tuple[Any, ...]:
        return ("XADD", self._changes, "MAXLEN", "~", _CHANGES_KEPT, "*", "c", "1")

    def changed(self) -> None:
        """Announce that message state changed, for every host's long polls."""
        self.call(*self._notice())

    def _version_command(self) -> tuple[Any, ...]:
        return ("XREVRANGE", self._changes, "+", "-", "COUNT", 1)

    @staticmethod
    def _as_version(last: Any) -> int:
        if not last:
            return 0
        millis, number = last[0][0].split("-")
        return (int(millis) << _SEQ_BITS) | int(number)

    def version(self) -> int:
        """Where the change stream is (for :meth:`wait`)."""
        return self._as_version(self.call(*self._version_command()))

    def version_and(self, *command: Any) -> tuple[int, Any]:
        """:meth:`version`, then ``command``, in one round trip: (the version, its answer)."""
        last, answer = self.pipelined([self._version_command(), command])
        return self._as_version(last), answer

    def wait(self, since: int, timeout: float) -> None:
        """Until the version moves past ``since`` or ``timeout`` seconds pass (early returns allowed)."""
        if timeout <= 0:
            return
        after = f"{since >> _SEQ_BITS}-{since & ((1 << _SEQ_BITS) - 1)}"
        self._check()
        try:
            self.client.xread({self._changes: after}, count=1, block=max(1, int(timeout * 1000)))
        except self._errors.RedisError:
            time.sleep(min(timeout, 0.1))  # the next step reports the failure; do not spin

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.client.close()
            self.raw.close()
