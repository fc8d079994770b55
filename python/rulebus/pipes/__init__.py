"""EventBridge Pipes, in process: a queue or a stream, filter criteria, an optional enrichment
function and a target (function, queue, topic, bus or stream), run by the same pollers as the
functions' event source mappings (EventBridge User Guide, 'Amazon EventBridge Pipes').

:mod:`rulebus.pipes.registry` holds a broker's pipes and their API, :mod:`rulebus.pipes.pipe`
what a pipe does with a batch, :mod:`rulebus.pipes.delivery` how each kind of target receives it,
:mod:`rulebus.pipes.parameters` and :mod:`rulebus.pipes.input_template` the checked parameters.
See docs/pipes.md.
"""

from __future__ import annotations

from rulebus.pipes.pipe import Pipe
from rulebus.pipes.registry import Pipes

__all__ = ["Pipe", "Pipes"]
