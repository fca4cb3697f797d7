"""The benchmark's tools on its smallest size: they replay and explain every statement of a
collection, in a transaction with the exporter's settings."""

import pickle
from datetime import UTC, datetime, time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.alternate import Replayed
from bench.alternate import replay as alternate
from bench.alternate import report as alternate_report
from bench.capture import capture
from bench.explain import explain, report
from bench.generate import SIZES, generate
from bench.rows import create_database, drop_database
from bench.run import raw_sql
from exporter.database import create_engine
from exporter.settings import Settings
from tests.conftest import server_url

# Parallel plans made free, so that the planner would pick them for the smallest tables
# but for the settings of the exporter's transaction.
CHEAP_PARALLEL = (
    "parallel_setup_cost = 0",
    "parallel_tuple_cost = 0",
    "min_parallel_table_scan_size = 0",
    "min_parallel_index_scan_size = 0",
)


async def _set_for_database(url: str, settings: tuple[str, ...]) -> None:
    engine = create_engine(url, read_only=False, pool_size=1)
    database = make_url(url).database
    try:
        async with engine.begin() as connection:
            for setting in settings:
                await connection.execute(text(f"ALTER DATABASE {database} SET {setting}"))
    finally:
        await engine.dispose()


async def test_explain_replay_and_alternate_cover_every_statement_of_a_collection(
    tmp_path: Path,
) -> None:
    url = make_url(server_url("postgresql")).set(database="chat_bench_tools")
    own = url.render_as_string(hide_password=False)
    # Noon of the current UTC day: the collection below finds today's conversations.
    noon = datetime.combine(datetime.now(UTC).date(), time(12), tzinfo=UTC)
    await create_database(own)
    try:
        await generate(own, SIZES["S"], now=int(noon.timestamp()))
        await _set_for_database(own, CHEAP_PARALLEL)
        statements = await capture(own, "reference", Settings())
        explained = await explain(own, statements, runs=1)
        async with raw_sql(own, statements) as replay:  # bench.run's; a failing statement raises
            await replay()
            await replay()  # the connection is kept: a second transaction on it
        saved = tmp_path / "statements"
        saved.write_bytes(pickle.dumps(statements))
        sets = [
            Replayed.parse(f"serial={saved}@{own}"),
            Replayed.parse(f"free={saved}@{own}+parallel"),
        ]
        await alternate(sets, runs=2)
    finally:
        await drop_database(own)

    assert len(explained) == len(statements)
    assert "site_id, agent_id, conversations, ended, …" in [one.label for one in explained]
    assert not [one.label for one in explained if "Gather" in one.text]
    table = report([], explained, plans=False)
    assert table.count("\n| ") == len(statements) + 2  # the header's rule, a row each, total
    serial, free = sets
    assert (serial.url, serial.parallel, free.url, free.parallel) == (own, False, own, True)
    assert [len(one.runs) for one in sets] == [2, 2]
    assert all(len(run) == len(statements) for one in sets for run in one.runs)
    assert "site_id, agent_id, conversations, ended" in serial.names
    alternated = alternate_report(sets)
    assert "| serial | " in alternated
    assert "| 1.00 | 1.00 1.00 |" in alternated  # the first set against itself, each run
    assert alternated.count("| site_id, agent_id, conversations, ended |") == 2
