"""Real SNS message signatures, for the deliveries a subscriber verifies: what ``rulebus serve``
signs its HTTP/S notifications and subscription confirmations with.

SNS signs each message with its RSA key; a subscriber fetches the certificate at the message's
``SigningCertURL``, takes its public key and checks ``Signature`` (base64: SHA1withRSA for
``SignatureVersion`` 1, SHA256withRSA for 2) over SNS's string to sign (Amazon SNS Developer
Guide, "Verifying the signatures of Amazon SNS messages"). rulebus has no AWS key, so a
:class:`Signer` makes its own: an RSA key and a self-signed X.509 certificate, served by
``rulebus serve`` at :meth:`Signer.certificate_url`, which every SigningCertURL of its brokers
names. A verifier that fetches that URL (instead of insisting on an ``amazonaws.com`` host)
accepts rulebus's messages as it accepts SNS's.

Why the signing is where it is: a publish fans out at 100k+ messages a second and an RSA
signature costs about a millisecond, so envelopes are laid out once per publish with a stand-in
``Signature`` (see ``rulebus.sns.envelope``) and only the deliveries that are verified, HTTP/S
POSTs, get the real one (:meth:`Signer.signed_text`), when they are sent. The signature does not
cover UnsubscribeURL, so one serves every subscription of a message: it is cached (bounded) by
the digest of what it signs.

One signer per server (per :class:`~rulebus.aws.brokers.Brokers`), its key made on first use and
kept in memory only: a restarted server has a new key and certificate (under a new URL), so a
subscriber that caches certificates by URL never checks a new signature against an old key.
Processes sharing one SQLite store each have their own signer; each signs the deliveries it
makes itself and names its own URL, so every SigningCertURL reaches the certificate that verifies
it as long as the process that signed still serves (several servers behind one URL would need a
shared key, which rulebus does not offer).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

__all__ = [
    "CERTIFICATE_CONTENT_TYPE",
    "CERTIFICATE_PATH_PREFIX",
    "SIGNED_TYPES",
    "Signer",
    "string_to_sign",
]

#: Where ``rulebus serve`` serves its certificates: ``<prefix><name>.pem``.
CERTIFICATE_PATH_PREFIX = "/_rulebus/sns/"
#: The Content-Type a certificate is answered with (the one SNS's certificate URLs answer with).
CERTIFICATE_CONTENT_TYPE = "application/x-x509-ca-cert"

#: The members each message type signs, in the order of the string to sign (the byte order of
#: their names; Subject only when present): "Verifying the signatures of Amazon SNS messages".
_NOTIFICATION_MEMBERS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_CONFIRMATION_MEMBERS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
SIGNED_TYPES: Mapping[str, tuple[str, ...]] = {
    "Notification": _NOTIFICATION_MEMBERS,
    "SubscriptionConfirmation": _CONFIRMATION_MEMBERS,
    "UnsubscribeConfirmation": _CONFIRMATION_MEMBERS,
}

#: SignatureVersion -> the digest its RSA signature (PKCS #1 v1.5) is made with.
_DIGESTS: Mapping[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}

_KEY_BITS = 2048  # SNS's certificates hold 2048-bit keys: signatures of 344 base64 characters
_CERTIFICATE_DAYS = 3650
_CACHED_SIGNATURES = 4096


def string_to_sign(fields: Mapping[str, Any]) -> str:
    """SNS's string to sign of a message (its members by name, as the subscriber receives them):
    each signed member present as ``Name\\nValue\\n``, in the documented order. ValueError for a
    ``Type`` SNS does not sign."""
    members = SIGNED_TYPES.get(str(fields.get("Type")))
    if members is None:
        raise ValueError(f"SNS signs no message of Type {fields.get('Type')!r}")
    return "".join(f"{name}\n{fields[name]}\n" for name in members if fields.get(name) is not None)


class Signer:
    """An RSA key and its self-signed certificate, made on first use (see the module's doc);
    thread-safe."""

    def __init__(self) -> None:
        #: Names the certificate in its URL (as SNS's ``SimpleNotificationService-<hex>.pem``);
        #: known before the key is made, so envelopes can name it without making the key.
        self.certificate_name = f"SimpleNotificationService-{uuid.uuid4().hex}.pem"
        self._key: rsa.RSAPrivateKey | None = None
        self._pem: bytes | None = None
        self._lock = threading.Lock()
        self._signatures: OrderedDict[tuple[str, bytes], str] = OrderedDict()

    @property
    def certificate_path(self) -> str:
        """The path, under the server's URL, that serves the certificate."""
        return CERTIFICATE_PATH_PREFIX + self.certificate_name

    def certificate_url(self, endpoint: str) -> str:
        """The SigningCertURL of the server at ``endpoint`` (its base URL)."""
        return endpoint.rstrip("/") + self.certificate_path

    def certificate_pem(self) -> bytes:
        """The certificate, PEM-encoded."""
        self._private_key()
        assert self._pem is not None  # made with the key
        return self._pem

    def _private_key(self) -> rsa.RSAPrivateKey:
        key = self._key
        if key is not None:
            return key
        with self._lock:
            if self._key is None:
                key = rsa.generate_private_key(public_exponent=65537, key_size=_KEY_BITS)
                self._pem = _self_signed(key).public_bytes(serialization.Encoding.PEM)
                self._key = key
            return self._key

    def sign(self, fields: Mapping[str, Any], version: str) -> str:
        """The base64 ``Signature`` of a message with these members under ``SignatureVersion``
        ``version`` ("1" or "2"; ValueError otherwise, or for a Type SNS does not sign)."""
        digest = _DIGESTS.get(version)
        if digest is None:
            raise ValueError(f"unknown SignatureVersion {version!r}")
        text = string_to_sign(fields).encode("utf-8")
        key = (version, hashlib.sha256(text).digest())
        with self._lock:
            cached = self._signatures.get(key)
            if cached is not None:
                self._signatures.move_to_end(key)
                return cached
        signature = base64.b64encode(self._private_key().sign(text, padding.PKCS1v15(), digest())).decode(
            "ascii"
        )
        with self._lock:
            self._signatures[key] = signature
            if len(self._signatures) > _CACHED_SIGNATURES:
                self._signatures.popitem(last=False)
        return signature

    def signed_text(self, text: str) -> str:
        """A delivered envelope (its JSON text) with its stand-in ``Signature`` replaced by the
        real one; unchanged if it has none to replace (a FIFO topic's notification, a raw
        message) or cannot be signed (an unknown SignatureVersion)."""
        try:
            fields = json.loads(text)
        except ValueError:
            return text
        if not isinstance(fields, dict):
            return text
        placeholder = fields.get("Signature")
        version = fields.get("SignatureVersion")
        if not isinstance(placeholder, str) or not isinstance(version, str):
            return text
        try:
            signature = self.sign(fields, version)
        except ValueError:
            return text
        # The member as the envelope writes it: a raw newline precedes it, which no quoted
        # value holds, so the first occurrence is the member and never text inside a value.
        member = ',\n  "Signature" : '
        return text.replace(member + json.dumps(placeholder), member + json.dumps(signature), 1)


def _self_signed(key: rsa.RSAPrivateKey) -> x509.Certificate:
    """A certificate for ``key``, issued by itself (no chain: the subscriber trusts it by URL)."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "rulebus"),
            x509.NameAttribute(NameOID.COMMON_NAME, "rulebus SNS message signing"),
        ]
    )
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=_CERTIFICATE_DAYS))
        .sign(key, hashes.SHA256())
    )
