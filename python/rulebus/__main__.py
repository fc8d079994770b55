"""``python -m rulebus``: the command line (see :mod:`rulebus.cli`)."""

from rulebus.cli import main

if __name__ == "__main__":
    main()
