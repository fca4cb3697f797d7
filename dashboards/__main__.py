"""Write the dashboards' JSON, or with --check, fail if the committed JSON is stale."""

import argparse
import sys

from dashboards import generate, stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dashboards", description="Generate the Grafana dashboards' JSON."
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a committed file differs from the generated one",
    )
    arguments = parser.parse_args(argv)
    generated = generate()
    outdated = stale(generated)
    if arguments.check:
        for path in outdated:
            print(f"stale: {path} (run python -m dashboards)", file=sys.stderr)
        return 1 if outdated else 0
    for path in outdated:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(generated[path], encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
