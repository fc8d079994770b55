"""Checking AWS Signature Version 4 on requests, for ``rulebus serve --verify-signatures``.

The algorithm is the one AWS documents (IAM User Guide, 'Create a signed AWS API request' and
'Elements of an AWS API request signature'): a canonical request (method, canonical URI,
canonical query string, canonical headers, signed headers, payload hash), a string to sign
(``AWS4-HMAC-SHA256``, the request time, the credential scope, the canonical request's hash), a
signing key derived from the secret through the scope's date, region and service, and the
HMAC-SHA256 of the string to sign under that key. A request carries it either in the
``Authorization`` header or, presigned, in the query string (``X-Amz-Signature`` and friends).

:class:`SignatureVerifier` refuses what AWS refuses, with the codes each protocol's services use
(their API References' 'Common Errors'): the query services and SQS (whose JSON protocol keeps the
query codes) answer ``MissingAuthenticationToken``, ``IncompleteSignature``,
``InvalidClientTokenId``, ``RequestExpired`` and ``SignatureDoesNotMatch``; the AWS JSON services
(EventBridge, Kinesis) answer ``MissingAuthenticationTokenException``,
``IncompleteSignatureException``, ``UnrecognizedClientException`` and
``InvalidSignatureException`` (an expired signature too). A request time more than 15 minutes
from the server's clock is expired, as AWS's clock skew allows.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

from rulebus._errors import AwsError

__all__ = [
    "ALGORITHM",
    "CLOCK_SKEW",
    "KEYS_ENVIRONMENT",
    "SignatureVerifier",
    "parse_access_keys",
]

ALGORITHM = "AWS4-HMAC-SHA256"
#: How far a request's time may be from the server's (AWS's clock skew).
CLOCK_SKEW = timedelta(minutes=15)
#: The environment variable ``rulebus serve`` reads keys from: ``ID:SECRET[,ID:SECRET...]``.
KEYS_ENVIRONMENT = "RULEBUS_ACCESS_KEYS"
#: The longest a presigned URL may last (seven days, as AWS allows).
MAX_EXPIRES = 7 * 24 * 3600

_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
_TIME = re.compile(r"\A\d{8}T\d{6}Z\Z")
_UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_SPACES = re.compile(r"\s+")
# Services whose errors are the query protocol's codes (SQS keeps them over AWS JSON too).
_QUERY_CODED = frozenset({"sqs", "sns", "sts"})

_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details."
)
_UNKNOWN_KEY = "The security token included in the request is invalid."


def parse_access_keys(pairs: Iterable[str]) -> dict[str, str]:
    """``ID:SECRET`` pairs as a mapping of access key id to secret (ValueError for a bad pair)."""
    keys: dict[str, str] = {}
    for pair in pairs:
        key_id, sep, secret = pair.strip().partition(":")
        if not sep or not key_id or not secret:
            raise ValueError(f"an access key must be given as ID:SECRET, not {pair!r}")
        keys[key_id] = secret
    return keys


def keys_from_environment(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The keys :data:`KEYS_ENVIRONMENT` holds (comma separated ``ID:SECRET`` pairs)."""
    raw = environ.get(KEYS_ENVIRONMENT, "")
    return parse_access_keys(pair for pair in raw.split(",") if pair.strip())


@dataclass(frozen=True)
class _Signed:
    """What a request claims about its signature, from its header or its query string."""

    key_id: str
    scope: str  # date/region/service/aws4_request
    scope_date: str
    signed_headers: tuple[str, ...]
    signature: str
    request_time: datetime
    amz_date: str
    expires: int | None  # seconds, for a presigned URL
    presigned: bool


class SignatureVerifier:
    """Checks SigV4 signatures against ``keys`` (access key id -> secret access key).

    ``clock`` gives the server's time (seconds since the epoch); tests move it.
    """

    def __init__(self, keys: Mapping[str, str], clock: Callable[[], float] = time.time) -> None:
        if not keys:
            raise ValueError("verifying signatures needs at least one access key (ID:SECRET)")
        self.keys = dict(keys)
        self.clock = clock

    def verify(
        self,
        service: str,
        method: str,
        raw_path: str,
        query_string: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> None:
        """Nothing when the request is signed by a known key; else the AwsError AWS answers with.

        ``service`` is the botocore name of the service addressed (it decides how errors are
        coded); ``headers`` have lower-case names, repeated headers joined by commas; ``raw_path``
        and ``query_string`` are as sent, still percent-encoded.
        """
        errors = _Errors(service in _QUERY_CODED)
        pairs = _query_pairs(query_string)
        signed = self._claims(errors, headers, pairs)
        secret = self.keys.get(signed.key_id)
        if secret is None:
            raise errors.unknown_key()
        self._check_time(errors, signed)
        if "host" not in signed.signed_headers:
            raise errors.incomplete(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
            )
        missing = [name for name in signed.signed_headers if name not in headers]
        if missing:
            raise errors.mismatch()
        canonical_headers = "".join(
            f"{name}:{_SPACES.sub(' ', headers[name].strip())}\n" for name in signed.signed_headers
        )
        path = canonical_uri(raw_path)
        query = canonical_query(
            [(k, v) for k, v in pairs if not (signed.presigned and k == "X-Amz-Signature")]
        )
        payloads = [headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()]
        if signed.presigned:
            # A presigned URL is signed before its body is known: botocore signs
            # UNSIGNED-PAYLOAD, AWS's own examples the empty body's hash; either is taken.
            payloads.append(_UNSIGNED_PAYLOAD)
        key = signing_key(secret, signed.scope)
        for payload in payloads:
            canonical = "\n".join(
                [method.upper(), path, query, canonical_headers, ";".join(signed.signed_headers), payload]
            )
            to_sign = "\n".join(
                [ALGORITHM, signed.amz_date, signed.scope, hashlib.sha256(canonical.encode()).hexdigest()]
            )
            expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
            if hmac.compare_digest(expected, signed.signature):
                return
        raise errors.mismatch()

    # -- what the request claims ----------------------------------------------------------

    def _claims(self, errors: _Errors, headers: Mapping[str, str], pairs: list[tuple[str, str]]) -> _Signed:
        authorization = headers.get("authorization")
        query = dict(pairs)
        if authorization is None:
            if "X-Amz-Algorithm" in query or "X-Amz-Credential" in query or "X-Amz-Signature" in query:
                return self._presigned(errors, query)
            raise errors.missing()
        return self._header(errors, authorization, headers)

    def _header(self, errors: _Errors, authorization: str, headers: Mapping[str, str]) -> _Signed:
        algorithm, _, rest = authorization.strip().partition(" ")
        if algorithm != ALGORITHM:
            raise errors.incomplete(f"Unsupported AWS 'algorithm': '{algorithm}'")
        fields: dict[str, str] = {}
        for part in rest.split(","):
            name, sep, value = part.strip().partition("=")
            if sep:
                fields[name] = value
        lacking = [name for name in ("Credential", "Signature", "SignedHeaders") if not fields.get(name)]
        if lacking:
            needs = " ".join(f"Authorization header requires '{name}' parameter." for name in lacking)
            raise errors.incomplete(f"{needs} Authorization={authorization}")
        amz_date = headers.get("x-amz-date")
        if amz_date is None:
            date = headers.get("date")
            if date is None:
                raise errors.incomplete(
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                    f"header. Authorization={authorization}"
                )
            request_time = _http_date(errors, date)
            amz_date = request_time.strftime(_TIME_FORMAT)
        else:
            request_time = _amz_date(errors, amz_date)
        return self._signed(
            errors,
            fields["Credential"],
            fields["SignedHeaders"],
            fields["Signature"],
            request_time,
            amz_date,
            None,
            presigned=False,
        )

    def _presigned(self, errors: _Errors, query: dict[str, str]) -> _Signed:
        lacking = [
            name
            for name in (
                "X-Amz-Algorithm",
                "X-Amz-Credential",
                "X-Amz-Signature",
                "X-Amz-SignedHeaders",
                "X-Amz-Date",
            )
            if not query.get(name)
        ]
        if lacking:
            needs = " ".join(f"AWS query-string parameters must include '{name}'." for name in lacking)
            raise errors.incomplete(f"{needs} Re-examine the query-string parameters.")
        if query["X-Amz-Algorithm"] != ALGORITHM:
            raise errors.incomplete(f"Unsupported AWS 'algorithm': '{query['X-Amz-Algorithm']}'")
        raw_expires = query.get("X-Amz-Expires", str(MAX_EXPIRES))
        if not raw_expires.isdigit() or int(raw_expires) > MAX_EXPIRES:
            raise errors.incomplete(
                f"X-Amz-Expires must be an integer from 0 to {MAX_EXPIRES} seconds, not {raw_expires!r}."
            )
        amz_date = query["X-Amz-Date"]
        return self._signed(
            errors,
            query["X-Amz-Credential"],
            query["X-Amz-SignedHeaders"],
            query["X-Amz-Signature"],
            _amz_date(errors, amz_date),
            amz_date,
            int(raw_expires),
            presigned=True,
        )

    @staticmethod
    def _signed(
        errors: _Errors,
        credential: str,
        signed_headers: str,
        signature: str,
        request_time: datetime,
        amz_date: str,
        expires: int | None,
        presigned: bool,
    ) -> _Signed:
        parts = credential.split("/")
        if len(parts) != 5 or not all(parts):
            raise errors.incomplete(
                f"Credential must have exactly 5 slash-delimited elements, e.g. "
                f"keyid/date/region/service/term, got '{credential}'"
            )
        key_id, scope_date, _region, _service, terminator = parts
        if terminator != "aws4_request":
            raise errors.mismatch(
                f"Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
            )
        if scope_date != amz_date[:8]:
            raise errors.mismatch(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
                f"HTTP: '{scope_date}' != '{amz_date[:8]}', from '{amz_date}'."
            )
        names = tuple(signed_headers.split(";"))
        if any(name != name.lower() or not name for name in names) or list(names) != sorted(names):
            raise errors.mismatch()
        return _Signed(
            key_id=key_id,
            scope="/".join(parts[1:]),
            scope_date=scope_date,
            signed_headers=names,
            signature=signature,
            request_time=request_time,
            amz_date=amz_date,
            expires=expires,
            presigned=presigned,
        )

    def _check_time(self, errors: _Errors, signed: _Signed) -> None:
        now = datetime.fromtimestamp(self.clock(), tz=timezone.utc).replace(microsecond=0)
        stamp = signed.amz_date
        if signed.expires is not None and now > signed.request_time + timedelta(seconds=signed.expires):
            raise errors.expired(
                f"Request has expired: signed at {stamp}, valid for {signed.expires} seconds, now "
                f"{now.strftime(_TIME_FORMAT)}."
            )
        if signed.request_time < now - CLOCK_SKEW:
            raise errors.expired(
                f"Signature expired: {stamp} is now earlier than {(now - CLOCK_SKEW).strftime(_TIME_FORMAT)} "
                f"({now.strftime(_TIME_FORMAT)} - 15 min.)"
            )
        if signed.request_time > now + CLOCK_SKEW:
            raise errors.expired(
                f"Signature not yet current: {stamp} is still later than "
                f"{(now + CLOCK_SKEW).strftime(_TIME_FORMAT)} ({now.strftime(_TIME_FORMAT)} + 15 min.)"
            )


class _Errors:
    """The errors of one protocol family (query-coded, or Coral's JSON exceptions)."""

    def __init__(self, query_coded: bool) -> None:
        self.query_coded = query_coded

    def _error(self, query: str, json: str, message: str, status: int) -> AwsError:
        return AwsError(query if self.query_coded else json, message, status=status)

    def missing(self) -> AwsError:
        if self.query_coded:
            return AwsError(
                "MissingAuthenticationToken", "Request is missing Authentication Token", status=403
            )
        return AwsError("MissingAuthenticationTokenException", "Missing Authentication Token", status=403)

    def incomplete(self, message: str) -> AwsError:
        return self._error("IncompleteSignature", "IncompleteSignatureException", message, 400)

    def unknown_key(self) -> AwsError:
        if self.query_coded:
            return AwsError("InvalidClientTokenId", _UNKNOWN_KEY, status=403)
        return AwsError("UnrecognizedClientException", _UNKNOWN_KEY, status=400)

    def expired(self, message: str) -> AwsError:
        if self.query_coded:
            return AwsError("RequestExpired", message, status=400)
        return AwsError("InvalidSignatureException", message, status=400)

    def mismatch(self, message: str = _MISMATCH) -> AwsError:
        if self.query_coded:
            return AwsError("SignatureDoesNotMatch", message, status=403)
        return AwsError("InvalidSignatureException", message, status=400)


# -- the pieces of the algorithm ----------------------------------------------------------------


def signing_key(secret: str, scope: str) -> bytes:
    """The key derived from ``secret`` through the scope's date, region, service and terminator."""
    key = ("AWS4" + secret).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def canonical_uri(raw_path: str) -> str:
    """The path as AWS canonicalises it for every service but S3: dot segments and repeated
    slashes removed, then each byte outside the unreserved set percent-encoded (so a path sent
    encoded is encoded twice)."""
    path = raw_path or "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    normal = "/" + "/".join(segments)
    if path.endswith("/") and normal != "/":
        normal += "/"
    return quote(normal, safe="/~", encoding="utf-8", errors="surrogateescape")


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Names and values URI-encoded (RFC 3986 unreserved characters kept), sorted by name then value."""
    encoded = sorted((_encode(key), _encode(value)) for key, value in pairs)
    return "&".join(f"{key}={value}" for key, value in encoded)


def _encode(text: str) -> str:
    return quote(text, safe="-_.~", encoding="utf-8", errors="surrogateescape")


def _query_pairs(query_string: str) -> list[tuple[str, str]]:
    """The query string's pairs, decoded (``+`` stays a plus: SigV4 encodes spaces as %20)."""
    pairs = []
    for part in query_string.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((unquote(key, errors="surrogateescape"), unquote(value, errors="surrogateescape")))
    return pairs


def _amz_date(errors: _Errors, value: str) -> datetime:
    if not _TIME.match(value):
        raise errors.incomplete(f"Date must be in ISO-8601 'basic format'. Got '{value}'.")
    try:
        return datetime.strptime(value, _TIME_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        raise errors.incomplete(f"Date must be in ISO-8601 'basic format'. Got '{value}'.") from None


def _http_date(errors: _Errors, value: str) -> datetime:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        raise errors.incomplete(f"Date must be an HTTP date (RFC 7231). Got '{value}'.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
