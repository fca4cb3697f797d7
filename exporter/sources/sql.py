"""The few SQL expressions that SQLite, PostgreSQL and MariaDB spell differently."""

from datetime import datetime
from typing import Any

from sqlalchemy import Float, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

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
