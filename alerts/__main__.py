"""Write the rule files, or with --check, fail if the committed ones are stale."""

import sys

from alerts import COMMAND, generate
from mixin import generator


def main(argv: list[str] | None = None) -> int:
    return generator.main(
        COMMAND, "Generate the Prometheus rules.", generate, argv, runbook_url=True
    )


if __name__ == "__main__":
    sys.exit(main())
