"""URLs, drivers, and the guarantee that the exporter's connections cannot write."""

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError

from exporter.database import BadURL, async_url, create_engine, read_only, redact
from exporter.schema import sites


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///chat.db", "sqlite+aiosqlite:///chat.db"),
        ("sqlite:////var/lib/chat.db", "sqlite+aiosqlite:////var/lib/chat.db"),
        ("postgresql://u:p@db:5432/chat", "postgresql+asyncpg://u:p@db:5432/chat"),
        ("postgres://u@db/chat", "postgresql+asyncpg://u@db/chat"),
        ("postgresql+psycopg2://u@db/chat", "postgresql+asyncpg://u@db/chat"),
        ("mysql://root@db:3306/chat", "mysql+aiomysql://root@db:3306/chat?charset=utf8mb4"),
        ("mariadb://root@db/chat?charset=latin1", "mysql+aiomysql://root@db/chat?charset=latin1"),
        ("mysql+pymysql://root@db/chat", "mysql+aiomysql://root@db/chat?charset=utf8mb4"),
    ],
)
def test_the_async_driver_is_chosen_from_the_scheme(url: str, expected: str) -> None:
    assert async_url(url).render_as_string(hide_password=False) == expected


def test_sqlite_is_opened_read_only_by_the_exporter() -> None:
    url = async_url("sqlite:///chat.db", read_only=True)
    assert url.database == "file:chat.db"
    assert dict(url.query) == {"mode": "ro", "uri": "true"}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("chat.db", "cannot parse database URL 'chat.db'"),
        (
            "postgresql://u:secret@db:port/chat",
            "cannot parse database URL 'postgresql://u:***@db:port/chat'",
        ),
        (
            "oracle://scott:tiger@db/x",
            "unsupported database URL scheme 'oracle' in 'oracle://scott:***@db/x'",
        ),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(BadURL) as error:
        async_url(url)
    assert str(error.value).startswith(message)


def test_passwords_are_masked_even_in_unparseable_urls() -> None:
    assert redact("postgresql://u:secret@db/chat") == "postgresql://u:***@db/chat"
    assert redact("postgresql://u:sec ret@db:bad/chat") == "postgresql://u:***@db:bad/chat"


async def test_the_exporter_cannot_write(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with read_only(engine, statement_timeout=5) as connection:
            with pytest.raises(DBAPIError, match=r"(?i)read.?only|readonly"):
                await connection.execute(insert(sites).values(name="intruder", timezone="UTC"))
    finally:
        await engine.dispose()
