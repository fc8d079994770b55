"""The service models the codec is driven by: botocore's, loaded once per service.

Every request is parsed and every response written by walking a shape of one of these models
(:class:`botocore.model.ServiceModel`), never by code per operation. SQS has two: botocore's
current model (AWS JSON 1.0, what boto3 sends) and, for clients that still speak the query
protocol, the query model of botocore 1.29 kept as data beside this module (``data/``).

Why data and not rules: the query names of SQS's flattened members are not derivable from the
JSON model. A flattened list's element name is the member shape's ``locationName``, and SQS chose
those names one by one (``Entries`` travels as ``SendMessageBatchRequestEntry.N``, ``Messages``
comes back as ``<Message>`` elements, ``MessageAttributes`` as ``MessageAttribute.N.Name``); the
JSON model dropped every ``locationName`` and ``flattened`` trait, so no rule applied to it could
give these names back, while the 1.29 model states them as AWS's own SDKs serialised them. It has
all 23 operations of today's SQS and the same member names, so a handler sees the same ``params``
whichever protocol the request came in.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel

__all__ = [
    "EMULATED",
    "ServiceModels",
    "service_models",
]

#: The services rulebus emulates, by botocore's service name (what ``boto3.client`` takes and
#: what a SigV4 credential scope names).
EMULATED: tuple[str, ...] = ("sqs", "sns", "events", "kinesis", "sts")

SQS_QUERY_MODEL = "sqs-query-2012-11-05.json"

_LOCK = threading.Lock()
_MODELS: dict[str, ServiceModels] = {}
# Keyed by id: only the models of _MODELS, which live as long as the process, are looked up.
_OPERATION_NAMES: dict[int, frozenset[str]] = {}


@dataclass(frozen=True)
class ServiceModels:
    """One service's models, by protocol: ``"json"`` and/or ``"query"``."""

    name: str
    by_protocol: dict[str, ServiceModel]

    @property
    def protocols(self) -> tuple[str, ...]:
        return tuple(self.by_protocol)

    def model(self, protocol: str) -> ServiceModel | None:
        return self.by_protocol.get(protocol)

    def operation(self, protocol: str, name: str) -> OperationModel | None:
        """The operation ``name`` of this service's ``protocol`` model, or None if it has none."""
        model = self.by_protocol.get(protocol)
        if model is None or name not in _operation_names(model):
            return None
        return model.operation_model(name)

    @property
    def operation_names(self) -> frozenset[str]:
        """Every operation any of this service's models knows."""
        return frozenset().union(*(_operation_names(m) for m in self.by_protocol.values()))

    @property
    def target_prefix(self) -> str | None:
        """The ``X-Amz-Target`` prefix of the JSON model (``AmazonSQS``), if the service has one."""
        model = self.by_protocol.get("json")
        return None if model is None else str(model.metadata["targetPrefix"])

    @property
    def api_version(self) -> str:
        return next(iter(self.by_protocol.values())).api_version


def _operation_names(model: ServiceModel) -> frozenset[str]:
    names = _OPERATION_NAMES.get(id(model))
    if names is None:
        names = _OPERATION_NAMES[id(model)] = frozenset(model.operation_names)
    return names


def service_models(name: str) -> ServiceModels:
    """The models of the botocore service ``name`` (a model is parsed once a process)."""
    models = _MODELS.get(name)
    if models is None:
        with _LOCK:
            models = _MODELS.get(name)
            if models is None:
                models = _MODELS[name] = _load(name)
    return models


def _load(name: str) -> ServiceModels:
    data: dict[str, Any] = Loader().load_service_model(name, "service-2")
    current = ServiceModel(data, service_name=name)
    by_protocol: dict[str, ServiceModel] = {_protocol(current): current}
    if name == "sqs" and "query" not in by_protocol:
        by_protocol["query"] = ServiceModel(_packaged_model(SQS_QUERY_MODEL), service_name=name)
    return ServiceModels(name, by_protocol)


def _protocol(model: ServiceModel) -> str:
    protocol = str(model.metadata.get("protocol", ""))
    if protocol not in ("json", "query"):
        raise ValueError(f"rulebus does not speak the {protocol!r} protocol of {model.service_name}")
    return protocol


def _packaged_model(filename: str) -> dict[str, Any]:
    data = resources.files("rulebus.aws.protocols").joinpath("data").joinpath(filename)
    text = data.read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
