"""The wire handlers' catalogue: every service's OPERATIONS are operations of its botocore model,
and docs/wire-operations.md lists exactly them as implemented and the rest as not."""

from __future__ import annotations

import re
from pathlib import Path

import botocore.session
import pytest
from rulebus.aws.services import SERVICES

DOC = Path(__file__).resolve().parent.parent / "docs" / "wire-operations.md"


def _listed(section: str, label: str) -> list[str]:
    match = re.search(rf"^{label}: (.*?)\.$", section, re.MULTILINE | re.DOTALL)
    assert match is not None, label
    names = [name.strip() for name in match.group(1).replace("\n", " ").split(",") if name.strip()]
    return [] if names == ["none"] else names


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_operations_are_the_models_and_the_docs(service: str) -> None:
    model = botocore.session.get_session().get_service_model(service)
    operations = SERVICES[service]
    assert set(operations) <= set(model.operation_names)
    section = DOC.read_text().split(f"(`{service}`)", 1)[1].split("\n## ", 1)[0]
    assert _listed(section, "Implemented") == sorted(operations)
    assert _listed(section, "Not implemented") == sorted(set(model.operation_names) - set(operations))


def test_handlers_keep_their_names() -> None:
    assert SERVICES["sqs"]["SendMessage"].__name__ == "send_message"
