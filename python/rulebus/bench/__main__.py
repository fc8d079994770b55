"""``python -m rulebus.bench``: the same as ``rulebus bench``."""

import sys

from rulebus.cli import main

if __name__ == "__main__":
    main(["bench", *sys.argv[1:]])
