"""Functions and event source mappings, as AWS Lambda runs them, in process.

A function is a Python handler registered under a name with Lambda's settings
(:mod:`rulebus.functions.function`); an event source mapping polls a queue and invokes a function
with batches of records in Lambda's shape (:mod:`rulebus.functions.event_source_mapping`,
:mod:`rulebus.functions.records`); :mod:`rulebus.functions.runtime` is where the invocations run (a
pool of threads, or the caller's thread), with the handlers in the worker threads or in child
processes (:mod:`rulebus.functions.process_pool`); :mod:`rulebus.functions.worker` is ``rulebus
worker``, which runs a program's functions in a process of their own. See docs/functions.md.
"""

from __future__ import annotations

from rulebus.functions.context import LambdaContext
from rulebus.functions.event_source_mapping import EventSourceMapping
from rulebus.functions.function import Function

__all__ = ["EventSourceMapping", "Function", "LambdaContext"]
