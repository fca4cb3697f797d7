"""The demo's contact centre: three sites in three time zones, agents, bots and objectives."""

from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from exporter.schema import agent_sites, agents, objectives, sites


@dataclass(frozen=True, slots=True)
class SiteSpec:
    name: str
    timezone: str
    max_handling_seconds: int | None
    max_response_seconds: int | None
    currency: str
    other_currency: str
    arrivals_per_second: float


SITES = (
    SiteSpec("paris", "Europe/Paris", 600, 45, "EUR", "GBP", 0.08),
    SiteSpec("new-york", "America/New_York", None, None, "USD", "CAD", 0.06),
    SiteSpec("tokyo", "Asia/Tokyo", 480, 40, "JPY", "USD", 0.05),
)

# (name, sites, max_slots, is_bot)
AGENTS = (
    ("Amélie Laurent", ("paris",), 3, False),
    ("Bastien Roux", ("paris",), 2, False),
    ("Chloé Martin", ("paris", "new-york"), 3, False),
    ("Diego Alvarez", ("paris",), 3, False),
    ("Emma Johnson", ("new-york",), 3, False),
    ("Frank O'Neil", ("new-york",), 2, False),
    ("Grace Lee", ("new-york", "tokyo"), 3, False),
    ("Hiro Tanaka", ("tokyo",), 2, False),
    ("Ines Costa", ("paris", "tokyo"), 3, False),
    ("Jun Sato", ("tokyo",), 3, False),
    ("Kenji Mori", ("tokyo",), 2, False),
    ("Lucas Petit", ("paris",), 3, False),
    ("Concierge bot", ("paris",), 6, True),
    ("Global assistant bot", ("new-york", "tokyo"), 8, True),
)

# (name, site or None for every site, agent or None for the site, metric, target, currency)
OBJECTIVES: tuple[tuple[str, str | None, str | None, str, float, str | None], ...] = (
    ("Daily conversations", None, None, "conversations", 400, None),
    ("Conversion rate", None, None, "conversion_rate", 0.12, None),
    ("Satisfaction", None, None, "satisfaction", 4.2, None),
    ("Handling time", None, None, "handling_time", 240, None),
    ("Turnover", "paris", None, "turnover", 5000, "EUR"),
    ("Agent conversations", None, "Amélie Laurent", "conversations", 40, None),
    ("Agent conversations", None, "Emma Johnson", "conversations", 40, None),
    ("Agent conversations", None, "Hiro Tanaka", "conversations", 30, None),
    ("Contacts per hour", None, "Chloé Martin", "conversations_per_hour", 6, None),
    ("Transactions", None, "Grace Lee", "transactions", 8, None),
)


async def seed(connection: AsyncConnection) -> bool:
    """Fill an empty reference schema; returns False (and changes nothing) if sites exist."""
    if await connection.scalar(select(func.count()).select_from(sites)):
        return False
    await connection.execute(
        insert(sites),
        [
            {
                "name": spec.name,
                "timezone": spec.timezone,
                "max_handling_seconds": spec.max_handling_seconds,
                "max_response_seconds": spec.max_response_seconds,
            }
            for spec in SITES
        ],
    )
    site_ids = dict((await connection.execute(select(sites.c.name, sites.c.id))).all())
    await connection.execute(
        insert(agents),
        [{"name": name, "max_slots": slots, "is_bot": bot} for name, _, slots, bot in AGENTS],
    )
    agent_ids = dict((await connection.execute(select(agents.c.name, agents.c.id))).all())
    await connection.execute(
        insert(agent_sites),
        [
            {"agent_id": agent_ids[name], "site_id": site_ids[site]}
            for name, names, _, _ in AGENTS
            for site in names
        ],
    )
    await connection.execute(
        insert(objectives),
        [
            {
                "name": name,
                "site_id": site_ids[site] if site else None,
                "agent_id": agent_ids[agent] if agent else None,
                "metric": metric,
                "target": target,
                "currency": currency,
            }
            for name, site, agent, metric, target, currency in OBJECTIVES
        ],
    )
    return True
