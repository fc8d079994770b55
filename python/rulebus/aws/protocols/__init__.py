"""The wire codec: AWS JSON 1.0/1.1 and the query protocol, driven by botocore's service models.

:mod:`.models` loads the models; :mod:`.awsjson` (with :mod:`.cbor` for its CBOR bodies) and
:mod:`.query` parse requests into the input shape's members and write the output shape's members
(and errors) back, each by walking the model's shapes; :mod:`.errors` holds the errors the codec
itself answers with.
``docs/wire.md`` tells which service speaks which protocol.
"""

from __future__ import annotations

from rulebus.aws.protocols.awsjson import JsonProtocol
from rulebus.aws.protocols.base import Reply
from rulebus.aws.protocols.cbor import CborProtocol
from rulebus.aws.protocols.models import EMULATED, ServiceModels, service_models
from rulebus.aws.protocols.query import QueryProtocol, form_tree

__all__ = [
    "EMULATED",
    "CborProtocol",
    "JsonProtocol",
    "QueryProtocol",
    "Reply",
    "ServiceModels",
    "form_tree",
    "service_models",
]
