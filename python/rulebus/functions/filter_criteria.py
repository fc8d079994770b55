"""Lambda's FilterCriteria for an event source mapping: ``{"Filters": [{"Pattern": "<json>"}]}``,
EventBridge's pattern language applied to each record (AWS Lambda Developer Guide, 'Control which
events Lambda sends to your function'). A record passes when any filter matches it; for SQS the
``body`` is matched as the JSON it holds when it is JSON, else as the string it is.

The filters are compiled once, together, into one :class:`rulebus.RuleSet`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from rulebus import _jsontext as jsontext
from rulebus._core import RuleSet
from rulebus._errors import AwsError, InvalidPatternError

__all__ = ["MAX_FILTERS", "FilterCriteria"]

#: Filters per event source mapping (AWS Lambda Developer Guide, 'Lambda quotas': 5 by default).
MAX_FILTERS = 5

_INVALID = "Invalid filter pattern definition."


def _invalid(reason: str | None = None) -> AwsError:
    # Lambda's text for a pattern it cannot use; the reason (rulebus's) says what was wrong.
    return AwsError("InvalidParameterValueException", _INVALID if reason is None else f"{_INVALID} {reason}")


class FilterCriteria:
    """Compiled filter criteria (see the module docstring); ``criteria`` is what was given."""

    def __init__(self, criteria: Mapping[str, Any]) -> None:
        if not isinstance(criteria, Mapping):
            raise _invalid("FilterCriteria must be a map with a Filters list.")
        filters = criteria.get("Filters", [])
        if not isinstance(filters, list) or set(criteria) - {"Filters"}:
            raise _invalid("FilterCriteria must be a map with a Filters list.")
        if len(filters) > MAX_FILTERS:
            raise AwsError(
                "InvalidParameterValueException",
                # rulebus's words
                f"The maximum number of filters per event source mapping is {MAX_FILTERS}.",
            )
        self.criteria: dict[str, Any] = {"Filters": []}
        self._rules = RuleSet()
        for index, entry in enumerate(filters):
            pattern = entry.get("Pattern") if isinstance(entry, Mapping) else None
            if not isinstance(pattern, str):
                raise _invalid("Each filter needs a Pattern string.")
            try:
                self._rules.add(str(index), pattern)
            except InvalidPatternError as error:
                raise _invalid(error.reason) from None
            self.criteria["Filters"].append({"Pattern": pattern})
        self._empty = not filters

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether any filter matches ``record`` (all do when there are none)."""
        return self.matches_many([record])[0]

    def matches_many(self, records: Sequence[Mapping[str, Any]]) -> list[bool]:
        """:meth:`matches` for a batch, in one call to the engine: the records no filter matches
        are dropped before any handler runs."""
        if self._empty:
            return [True] * len(records)
        views = [_view(record) for record in records]
        try:
            return [bool(names) for names in self._rules.matches_many(views)]
        except (ValueError, TypeError):
            # One record the engine cannot read (not representable as an event): each on its own.
            return [self._matches_one(view) for view in views]

    def _matches_one(self, view: dict[str, Any]) -> bool:
        try:
            return bool(self._rules.matches(view))
        except (ValueError, TypeError):
            return False  # nothing a pattern can match


def _view(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record as filters see it: an SQS ``body`` that holds JSON as that JSON."""
    view = dict(record)
    body = view.get("body")
    if isinstance(body, str):
        with contextlib.suppress(ValueError):  # not JSON: matched as the string it is
            view["body"] = jsontext.loads(body)
    return view
