"""The web console of ``rulebus serve`` at ``/_rulebus/``: the page, its JSON API and the
read-only views of the brokers behind them (see :mod:`rulebus.aws.console.app`)."""

from rulebus.aws.console.app import CONSOLE_HEADER, PREFIX, Console

__all__ = ["CONSOLE_HEADER", "PREFIX", "Console"]
