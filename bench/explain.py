"""Where the raw SQL of one collection goes, statement by statement, on PostgreSQL.

Captures the statements of one snapshot as ``bench.run`` does, then runs each under
``EXPLAIN (ANALYZE, BUFFERS)`` in one read-only REPEATABLE READ transaction with the settings
of the exporter's own (``POSTGRESQL_SETTINGS``: JIT and parallel workers off), and prints a
Markdown table: per statement its result columns (which name it), execution and planning time
(median of ``--runs``), the pages it read from the cache and from disk and the temporary pages
it wrote. ``--plans`` prints each statement's last plan after the table.
"""

import argparse
import asyncio
import json
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from bench.capture import Statement, capture
from bench.run import begin_as_exporter, postgresql_dsn
from exporter.config import load_config
from exporter.sources import SCHEMAS

LABEL_COLUMNS = 4


@dataclass(frozen=True, slots=True)
class Explained:
    """One statement's runs under EXPLAIN ANALYZE."""

    label: str
    execution_ms: list[float]
    planning_ms: list[float]
    plan: dict[str, Any]
    text: str

    def row(self) -> str:
        top = self.plan
        return (
            f"| {self.label} | {statistics.median(self.execution_ms):.1f} "
            f"| {statistics.median(self.planning_ms):.1f} | {top.get('Actual Rows', 0):.0f} "
            f"| {top.get('Shared Hit Blocks', 0)} | {top.get('Shared Read Blocks', 0)} "
            f"| {top.get('Temp Written Blocks', 0)} |"
        )


async def explain(url: str, statements: Sequence[Statement], runs: int) -> list[Explained]:
    """Each statement ``runs`` times under EXPLAIN ANALYZE (after one unmeasured run)."""
    server = await asyncpg.connect(postgresql_dsn(url))
    try:
        transaction = await begin_as_exporter(server)
        explained = []
        for statement, parameters in statements:
            prepared = await server.prepare(statement)
            columns = [attribute.name for attribute in prepared.get_attributes()]
            more = ", …" if len(columns) > LABEL_COLUMNS else ""
            label = ", ".join(columns[:LABEL_COLUMNS]) + more
            await prepared.fetch(*parameters)
            plans = [
                json.loads(
                    await server.fetchval(
                        f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}", *parameters
                    )
                )[0]
                for _ in range(runs)
            ]
            lines = await server.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", *parameters)
            text = "\n".join(line[0] for line in lines)
            explained.append(
                Explained(
                    label,
                    [plan["Execution Time"] for plan in plans],
                    [plan["Planning Time"] for plan in plans],
                    plans[-1]["Plan"],
                    text,
                )
            )
        await transaction.rollback()
        return explained
    finally:
        await server.close()


def report(args: Sequence[str], explained: Sequence[Explained], *, plans: bool) -> str:
    lines = [
        f"`python -m bench.explain {' '.join(args)}`",
        "",
        "| statement (its columns) | execution ms | planning ms | rows | pages cached "
        "| pages read | temp pages written |",
        "|---|---|---|---|---|---|---|",
        *(one.row() for one in explained),
        f"| **total** | {sum(statistics.median(one.execution_ms) for one in explained):.1f} "
        f"| {sum(statistics.median(one.planning_ms) for one in explained):.1f} | | | | |",
    ]
    if plans:
        for number, one in enumerate(explained, 1):
            lines += ["", f"{number}. {one.label}", "", "```", one.text, "```"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.explain",
        description="EXPLAIN (ANALYZE, BUFFERS) each statement of one collection (PostgreSQL).",
    )
    parser.add_argument("--database.url", dest="database_url", required=True, metavar="URL")
    parser.add_argument(
        "--database.schema", dest="schema", choices=sorted(SCHEMAS), default="reference"
    )
    parser.add_argument("--config.file", dest="config_file", type=Path, metavar="FILE")
    parser.add_argument("--runs", type=int, default=3, help="runs per statement (default 3)")
    parser.add_argument("--plans", action="store_true", help="print each statement's plan")
    args = parser.parse_args()
    if make_url(args.database_url).get_backend_name() != "postgresql":
        parser.error("--database.url must be a PostgreSQL database")
    settings = load_config(args.config_file).settings()
    statements = asyncio.run(capture(args.database_url, args.schema, settings))
    explained = asyncio.run(explain(args.database_url, statements, args.runs))
    print(report(sys.argv[1:], explained, plans=args.plans))


if __name__ == "__main__":
    main()
