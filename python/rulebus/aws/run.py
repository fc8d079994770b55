"""Run a Python script with every boto3 client in it answered by rulebus, in process.

    python -m rulebus.aws.run [--store URL] [--account ID] [--region NAME] script.py [args...]

The script runs unchanged, as ``python script.py args...`` would run it (``__name__`` is
``"__main__"``, ``sys.argv`` and ``sys.path[0]`` as Python sets them), inside
:func:`rulebus.mock_aws`: its SQS, SNS, EventBridge, Kinesis and STS calls reach fresh rulebus
brokers and no network. The exit status is the script's.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from collections.abc import Sequence

from rulebus.aws.brokers import DEFAULT_ACCOUNT, DEFAULT_REGION
from rulebus.aws.mock import mock_aws

__all__ = ["main", "run_script"]


def run_script(
    path: str,
    args: Sequence[str] = (),
    store: str | None = None,
    account: str = DEFAULT_ACCOUNT,
    region: str = DEFAULT_REGION,
) -> None:
    """Run the script at ``path`` as ``__main__`` with ``args`` under :func:`rulebus.mock_aws`."""
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = [path, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        with mock_aws(store=store, account=account, region=region):
            runpy.run_path(path, run_name="__main__")
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m rulebus.aws.run",
        description="Run a script with its boto3 SQS, SNS, EventBridge, Kinesis and STS clients "
        "answered by rulebus in process (rulebus.mock_aws).",
    )
    parser.add_argument("--store", default=None, help="memory:// (the default) or an SQLite URL or path")
    parser.add_argument("--account", default=DEFAULT_ACCOUNT, help="the account requests act in")
    parser.add_argument("--region", default=DEFAULT_REGION, help="the region when the script names none")
    parser.add_argument("script", help="the Python file to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the script's own arguments")
    options = parser.parse_args(argv)
    if not os.path.isfile(options.script):
        parser.error(f"no such script: {options.script}")
    run_script(options.script, options.args, options.store, options.account, options.region)


if __name__ == "__main__":
    main()
