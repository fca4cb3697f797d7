"""Write the dashboards' files, or with --check, fail if the committed ones are stale."""

import sys

from dashboards import COMMAND, generate
from mixin import generator


def main(argv: list[str] | None = None) -> int:
    return generator.main(
        COMMAND, "Generate the Grafana dashboards' JSON and ConfigMaps.", generate, argv
    )


if __name__ == "__main__":
    sys.exit(main())
