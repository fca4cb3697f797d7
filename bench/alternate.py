"""Compare the raw SQL of collections, alternating run by run (PostgreSQL).

On a shared machine the same statements vary by tens of per cent from one minute to the
next, so statement sets measured minutes apart cannot be compared. This replays several sets
saved by ``bench/capture.py``, one after the other within each run, each on its own database
(a copy, to give an older set the indexes it had), and prints the medians, the ratio of each
run to the first set's, and each statement's median:

    python -m bench.alternate --runs 15 LABEL=FILE@URL[+parallel] LABEL=FILE@URL ...

Each set runs in a read-only REPEATABLE READ transaction with the exporter's settings
(``POSTGRESQL_SETTINGS``), or with JIT off alone for ``+parallel`` (how exporters ran before
parallel plans were turned off), rows fetched, after one run that is not counted.
"""

import argparse
import asyncio
import pickle
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bench.capture import Statement
from bench.run import begin_as_exporter, postgresql_dsn
from exporter.database import POSTGRESQL_SETTINGS

PARALLEL = "+parallel"


@dataclass
class Replayed:
    """One statement set, its database and what its runs measured (milliseconds)."""

    label: str
    statements: list[Statement]
    url: str
    parallel: bool
    totals: list[float] = field(default_factory=list)
    runs: list[list[float]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, spec: str) -> "Replayed":
        label, _, rest = spec.partition("=")
        path, _, url = rest.partition("@")
        statements = pickle.loads(Path(path).read_bytes())
        return cls(label, statements, url.removesuffix(PARALLEL), url.endswith(PARALLEL))


async def replay(sets: Sequence[Replayed], runs: int) -> None:
    """Each set once per run, in turn."""
    servers = [await asyncpg.connect(postgresql_dsn(one.url)) for one in sets]
    try:
        for run in range(runs + 1):
            for one, server in zip(sets, servers, strict=True):
                settings = ("jit = off",) if one.parallel else POSTGRESQL_SETTINGS
                transaction = await begin_as_exporter(server, settings)
                each, names = [], []
                for statement, parameters in one.statements:
                    started = time.perf_counter()
                    rows = await server.fetch(statement, *parameters)
                    each.append((time.perf_counter() - started) * 1000)
                    names.append(", ".join(list(rows[0].keys())[:4]) if rows else "(no row)")
                await transaction.rollback()
                if run:  # the first run warms the caches
                    one.totals.append(sum(each))
                    one.runs.append(each)
                    one.names = names
    finally:
        for server in servers:
            await server.close()


def report(sets: Sequence[Replayed]) -> str:
    """Totals with their ratio to the first set's in the same run, then each statement's
    median."""
    first = sets[0]
    lines = [
        f"| statement set | median ms | min ms | / {first.label}, median | per run |",
        "|---|---|---|---|---|",
    ]
    for one in sets:
        ratios = [mine / theirs for mine, theirs in zip(one.totals, first.totals, strict=True)]
        lines.append(
            f"| {one.label} | {statistics.median(one.totals):.0f} | {min(one.totals):.0f} "
            f"| {statistics.median(ratios):.2f} | {' '.join(f'{r:.2f}' for r in ratios)} |"
        )
    for one in sets:
        lines += ["", f"{one.label}:", "", "| statement (its first columns) | median ms |"]
        lines.append("|---|---|")
        for index, name in enumerate(one.names):
            median = statistics.median(run[index] for run in one.runs)
            lines.append(f"| {name} | {median:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("sets", nargs="+", metavar=f"LABEL=FILE@URL[{PARALLEL}]")
    args = parser.parse_args()
    sets = [Replayed.parse(spec) for spec in args.sets]
    asyncio.run(replay(sets, args.runs))
    print(report(sets))


if __name__ == "__main__":
    main()
