"""``python -m rulebus``: the command line (see :mod:`rulebus.cli`)."""

from rulebus.cli import main

main()
