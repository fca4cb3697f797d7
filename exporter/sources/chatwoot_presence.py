"""Chatwoot's live presence, read from its Redis with read commands only.

Chatwoot's dashboard sends a heartbeat every few seconds; ``OnlineStatusTracker`` keeps it as
the score of the user in the sorted set ``ONLINE_PRESENCE::<account>::USERS`` and the status
the agent chose in the hash ``ONLINE_STATUS::<account>``, both behind the ``alfred:``
namespace. A user is connected while the heartbeat is younger than ``presence_seconds``; a
missing status counts as online, as Chatwoot's ``get_available_users`` does.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

from exporter.settings import ChatwootSettings
from exporter.sources.base import Unavailable

STATUSES = {"online": "available", "busy": "busy", "offline": "unavailable"}
"""Chatwoot's statuses as the exporter's; any other value is published as it is."""

TIMEOUT_SECONDS = 1.0
"""Redis answers these reads in milliseconds; one that takes a second is failing, and naming
it beats letting the whole collection time out without saying why."""


async def read_presence(
    settings: ChatwootSettings, accounts: Sequence[int], now: datetime
) -> Mapping[tuple[int, int], str]:
    """The status of each connected (account, user) at ``now``; Unavailable if Redis fails.

    A client per collection: nothing to keep healthy between scrapes, and two round trips
    whatever the number of accounts (heartbeats, then the statuses of those connected).
    """
    assert settings.redis_url is not None
    prefix = settings.redis_key_prefix
    since = now.timestamp() - settings.presence_seconds
    client = Redis.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_connect_timeout=TIMEOUT_SECONDS,
        socket_timeout=TIMEOUT_SECONDS,
        driver_info=None,  # no CLIENT SETINFO: the exporter's Redis user may read only
    )
    try:
        async with client.pipeline(transaction=False) as heartbeats:
            for account in accounts:
                heartbeats.zrangebyscore(
                    f"{prefix}ONLINE_PRESENCE::{account}::USERS", since, "+inf"
                )
            connected = [
                [int(user) for user in users if user.isdigit()]
                for users in await heartbeats.execute()
            ]
        async with client.pipeline(transaction=False) as statuses:
            for account, users in zip(accounts, connected, strict=True):
                if users:
                    statuses.hmget(f"{prefix}ONLINE_STATUS::{account}", users)
            chosen = iter(await statuses.execute())
    except (RedisError, OSError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise Unavailable(f"cannot read presence from Redis: {reason}") from error
    finally:
        await client.aclose()
    return {
        (account, user): STATUSES.get(status or "online", status)
        for account, users in zip(accounts, connected, strict=True)
        if users
        for user, status in zip(users, next(chosen), strict=True)
    }
