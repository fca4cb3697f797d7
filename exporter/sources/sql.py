"""SQL pieces shared by the sources: the expressions that SQLite, PostgreSQL and MariaDB spell
differently, parameter tables, and sums with their site totals."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    CTE,
    Float,
    Integer,
    bindparam,
    cast,
    column,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import Cast, ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine

from exporter.schema import Timestamp


class seconds_between(FunctionElement[float]):
    """``end - start`` in seconds (NULL if either is NULL)."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between)
def _seconds_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@compiles(seconds_between, "mysql")
@compiles(seconds_between, "mariadb")
def _seconds_mysql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"TIMESTAMPDIFF(MICROSECOND, {start}, {end}) / 1000000"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    # julianday() is a double: rounding to the millisecond (SQLite's own time resolution)
    # keeps whole-second differences exact.
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"ROUND((julianday({end}) - julianday({start})) * 86400.0, 3)"


class seconds_sum(FunctionElement[float]):
    """The sum of ``end - start`` over a group's rows, in seconds (NULL: no row).

    PostgreSQL sums the intervals, integers of microseconds, and converts the total once: the
    same exact NUMERIC as the sum of each row's ``seconds_between``, without a NUMERIC per
    row, which made most of the cost of the day statement's aggregation. Elsewhere the sum
    of ``seconds_between``.
    """

    type = Float()
    name = "seconds_sum"
    inherit_cache = True


@compiles(seconds_sum)
def _seconds_sum(element: seconds_sum, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = element.clauses
    return compiler.process(func.sum(seconds_between(start, end)), **kw)


@compiles(seconds_sum, "postgresql")
def _seconds_sum_postgresql(element: seconds_sum, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM sum({end} - {start}))"


class float_seconds_between(seconds_between):
    """``end - start`` in seconds as a double, for a value that is compared and summed as one.

    PostgreSQL's ``seconds_between`` is an exact NUMERIC, right for the sums that stay
    NUMERIC until cast; a NUMERIC that meets a double is converted through its text, which
    cost more than the rest of the day statement's aggregates. ``date_part`` computes the
    same double directly: the interval's microseconds divided once, so rounded once, while
    the interval is under a day (a subtraction of timestamps moves whole days out of the
    microseconds, and a longer one is rounded twice, at most one unit in the last place).
    Elsewhere it is ``seconds_between``.
    """

    inherit_cache = True


@compiles(float_seconds_between, "postgresql")
def _float_seconds_postgresql(
    element: float_seconds_between, compiler: SQLCompiler, **kw: Any
) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"date_part('epoch', {end} - {start})"


class timestamp(FunctionElement[datetime]):
    """A bound naive-UTC timestamp usable as a column of a derived table on every dialect."""

    type = Timestamp
    name = "timestamp"
    inherit_cache = True


def timestamp_param(value: datetime) -> ColumnElement[datetime]:
    """``value`` as a typed parameter (MariaDB compares untyped strings as strings)."""
    return timestamp(bindparam(None, value, type_=Timestamp))


@compiles(timestamp)
def _timestamp_plain(element: timestamp, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(timestamp, "mysql")
@compiles(timestamp, "mariadb")
def _timestamp_mysql(element: timestamp, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS DATETIME(6))"


def constants(
    name: str,
    columns: Mapping[str, TypeEngine[Any]],
    rows: Sequence[Sequence[Any]],
    *,
    arrays: bool,
) -> CTE:
    """A derived table of parameter rows, its ``columns`` by name and type.

    With ``arrays`` (PostgreSQL) one array parameter per column, unnested: planned as one node
    whatever the number of rows. Elsewhere, one ``SELECT`` of parameters per row in a ``UNION
    ALL`` (portable to the three dialects), which PostgreSQL planned row by row, in each
    statement that joined them.
    """
    if arrays:
        table = (
            func.unnest(
                *(
                    bindparam(None, [row[index] for row in rows], type_=ARRAY(kind))
                    for index, kind in enumerate(columns.values())
                )
            )
            .table_valued(*(column(label, kind) for label, kind in columns.items()))
            .render_derived(name=name)
        )
        return select(*table.c).cte(name)
    selects = [
        select(
            *(
                (timestamp_param(value) if kind is Timestamp else literal(value, kind)).label(label)
                for (label, kind), value in zip(columns.items(), row, strict=True)
            )
        )
        for row in rows
    ]
    return (union_all(*selects) if len(selects) > 1 else selects[0]).cte(name)


def whole(total: ColumnElement[Any]) -> ColumnElement[int]:
    """A sum of integers as an integer: MariaDB returns DECIMAL, PostgreSQL NUMERIC for some,
    and decoding tens of thousands of Decimals per scrape is not free."""
    return cast(total, Integer)


def with_site_totals(
    group: Sequence[ColumnElement[Any]],
    site_partition: Sequence[ColumnElement[Any]],
    sums: Mapping[str, ColumnElement[Any]],
) -> list[ColumnElement[Any]]:
    """The grouped columns, each aggregate, and its total over ``site_partition`` as site_<name>.

    A total sums what an aggregate casts (``whole``, a NUMERIC sent as a double), then casts
    it: a site's handling time summed from its agents' doubles had last digits that moved
    with the order in which the plan returned them; the exact sums do not move.
    """
    return [
        *group,
        *(aggregate.label(name) for name, aggregate in sums.items()),
        *(
            cast(
                func.sum(_uncast(aggregate)).over(partition_by=site_partition), aggregate.type
            ).label(f"site_{name}")
            for name, aggregate in sums.items()
        ),
    ]


def _uncast(aggregate: ColumnElement[Any]) -> ColumnElement[Any]:
    return aggregate.clause if isinstance(aggregate, Cast) else aggregate
