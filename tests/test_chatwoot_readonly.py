"""Chatwoot: the real exporter process reads Redis as a user that may only read presence keys.

The test creates a Redis ACL user allowed only the read commands the Chatwoot source sends,
on the presence keys of this test's prefix, runs ``python -m exporter --database.schema
chatwoot`` with it, checks the figures, checks that this user cannot write, and deletes it.
"""

import secrets
import time
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as redis
from redis.exceptions import NoPermissionError

from tests.chatwoot import READ_ONLY_COMMANDS, Chatwoot, Presence
from tests.servers import exporter

pytest_plugins = ("tests.chatwoot",)
pytestmark = pytest.mark.slow


def _acl_rules(prefix: str, password: str, url: str) -> list[str]:
    database = urllib.parse.urlsplit(url).path.strip("/") or "0"
    return [
        "reset",
        "on",
        f">{password}",
        "resetkeys",
        f"~{prefix}ONLINE_*",
        "resetchannels",
        "-@all",
        *READ_ONLY_COMMANDS,
        *(["+select"] if database != "0" else []),
    ]


def _with_user(url: str, user: str, password: str) -> str:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{user}:{password}@{host}:{parts.port or 6379}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture
async def reader(presence: Presence) -> AsyncIterator[str]:
    """The Redis URL of an ACL user of this test's own; the user is deleted afterwards."""
    user, password = f"cse-reader-{secrets.token_hex(4)}", secrets.token_hex(16)
    rules = _acl_rules(presence.prefix, password, presence.url)
    await presence.client.execute_command("ACL", "SETUSER", user, *rules)  # type: ignore[no-untyped-call]
    try:
        yield _with_user(presence.url, user, password)
    finally:
        await presence.client.acl_deluser(user)


async def test_the_exporter_reads_redis_as_a_read_only_user(
    chatwoot_url: str, presence: Presence, reader: str, tmp_path: Path
) -> None:
    s = Chatwoot()
    acme = s.account()
    web = s.inbox(acme, "Website")
    # All offline in the database: any connected agent below comes from Redis.
    ann = s.agent(acme, "Ann", [web], "offline")
    ben = s.agent(acme, "Ben", [web], "offline")
    cid = s.agent(acme, "Cid", [web], "offline")
    dee = s.agent(acme, "Dee", [web], "online")  # no heartbeat: not connected
    await s.write(chatwoot_url)
    # The exporter reads the wall clock: heartbeats now, with an hour of presence allowed.
    for user in (ann, ben, cid):
        await presence.heartbeat(acme, user, time.time())
    await presence.status(acme, ben, "busy")
    await presence.status(acme, cid, "offline")
    await presence.status(acme, dee, "online")
    config = tmp_path / "config.yml"
    config.write_text(
        "chatwoot:\n"
        f"  redis_url: {reader}\n"
        f"  redis_key_prefix: '{presence.prefix}'\n"
        "  presence_seconds: 3600\n"
    )

    args = [
        "--config.file",
        str(config),
        "--database.url",
        chatwoot_url,
        "--database.schema",
        "chatwoot",
    ]
    with exporter(args, tmp_path) as running:
        assert running.sample("chat_up") == 1, running.stderr()
        assert running.sample('chat_agents{site="Website",status="available"}') == 1  # Ann
        assert running.sample('chat_agents{site="Website",status="busy"}') == 1  # Ben
        assert running.sample('chat_agents{site="Website",status="unavailable"}') == 1  # Cid
        assert "level=error" not in running.stderr()

    # The same user cannot write, not even the keys it may read, nor read other keys.
    client = redis.Redis.from_url(reader, decode_responses=True)
    try:
        assert await client.zrangebyscore(presence.presence_key(acme), "-inf", "+inf") != []
        with pytest.raises(NoPermissionError):
            await client.zadd(presence.presence_key(acme), {"99": time.time()})
        with pytest.raises(NoPermissionError):
            await client.hset(presence.status_key(acme), "99", "online")
        with pytest.raises(NoPermissionError):
            await client.set(f"{presence.prefix}ONLINE_X", "1")
        with pytest.raises(NoPermissionError):
            await client.delete(presence.presence_key(acme))
        with pytest.raises(NoPermissionError):  # an allowed command, on another key
            await client.hmget(f"{presence.prefix}OTHER", ["1"])
        with pytest.raises(NoPermissionError):  # not needed, so not allowed
            await client.hgetall(presence.status_key(acme))
    finally:
        await client.aclose()
    assert await presence.client.zcard(presence.presence_key(acme)) == 3
