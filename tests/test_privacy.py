"""The privacy switches: ids instead of names (``agent_names``), site figures only (``per_agent``).

Each switch is checked against the whole scrape without it, on the same rows at the same
instant: with names off, the scrape is the default one with every ``agent`` label holding the
agent's id; with per-agent figures off, it is the default one less the ``chat_agent_*``
families and the agent objectives, byte for byte (and less the value of site objectives of
conversations per hour, which divide the agents' conversations by their presence, then not
read). With names off the names are not even read: a database role that may not read them
is enough.
"""

import asyncio
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from exporter.collector import data_families
from exporter.database import create_engine, read_only
from exporter.exposition import encode
from exporter.readings import Readings
from exporter.settings import ConfiguredObjective, Settings
from exporter.sources import SCHEMAS
from tests.builder import Scenario, snapshot, utc
from tests.chatwoot import Chatwoot, Presence, epoch
from tests.servers import exporter

pytest_plugins = ("tests.chatwoot",)

NOW = "2026-11-24 12:00:00"
# An agent's id and name as label text holds them: the name escaped (\\, \", \n).
_AGENT = re.compile(r'agent_id="(\d*)",agent="(?:[^"\\]|\\.)*"')
# Configured objectives of every scope: every site, and the agent of id 2 (Ben in both
# centres below).
CONFIGURED = (
    ConfiguredObjective("productivity", "conversations_per_hour", 6),
    ConfiguredObjective("contacts", "conversations", 30),
    ConfiguredObjective("agent contacts", "conversations", 10, agent_id=2),
)


async def exposition(url: str, settings: Settings, schema: str = "reference") -> str:
    """The chat families of a scrape at NOW with ``settings``, as text."""
    return encode(data_families(await snapshot(url, NOW, settings, schema)), False).decode()


def with_ids_for_names(text: str) -> str:
    """``text`` with each ``agent`` label holding the ``agent_id`` before it."""
    return _AGENT.sub(r'agent_id="\1",agent="\1"', text)


def site_figures_only(text: str) -> str:
    """``text`` less the per-agent families, the agent objectives and the value of site
    objectives of conversations per hour: what a scrape with per_agent false keeps."""
    kept, family = [], ""
    for line in text.splitlines(keepends=True):
        if line.startswith("# HELP "):
            family = line.split()[2]
        sample = not line.startswith("#")
        agent_objective = family.startswith("chat_objective_") and 'agent_id=""' not in line
        per_hour = family == "chat_objective_value" and 'metric="conversations_per_hour"' in line
        if not family.startswith("chat_agent_") and not (sample and (agent_objective or per_hour)):
            kept.append(line)
    return "".join(kept)


def reference_centre() -> Scenario:
    """Two sites; agents with every per-agent figure and names that need escaping; a bot, a
    queue, signals, sales, ratings, and objectives of every scope."""
    s = Scenario()
    main, tokyo = s.site("main"), s.site("tokyo", "Asia/Tokyo", max_response=30)
    ann = s.agent('Ann "A." O\\Neil', [main], slots=2)  # a quote and a backslash
    s.session(ann, "available", "2026-11-24 08:00:00")
    ben = s.agent("Ben\nBis", [main, tokyo])  # a newline
    s.session(ben, "busy", "2026-11-24 09:00:00", reason="lunch")
    cid = s.agent("Cid", [tokyo])  # disconnected, with a conversation today
    s.session(cid, "available", "2026-11-23 15:30:00", "2026-11-23 17:00:00")
    bot = s.agent("Bot", [main], slots=5, bot=True)
    s.session(bot, "available", "2026-11-24 00:00:00")
    # Today on main: Ann's ended, answered, rated and paid; Ben's in progress for 3 hours
    # (both signals); the bot's ended; one abandoned; one caller waiting since 11:55.
    done = s.conversation(main, ann, "2026-11-24 09:00:00", "2026-11-24 09:10:00")
    s.message(done, "visitor", "2026-11-24 09:00:00")
    s.message(done, "agent", "2026-11-24 09:00:40")
    s.rating(done, "welcome", 5, "2026-11-24 09:11:00")
    s.rating(done, "quality", 2, "2026-11-24 09:11:00")
    s.transaction(done, "120.50", "EUR", "2026-11-24 09:05:00")
    long = s.conversation(main, ben, "2026-11-24 09:00:00")
    s.message(long, "visitor", "2026-11-24 09:00:00")
    s.message(long, "agent", "2026-11-24 09:03:00")
    s.message(long, "visitor", "2026-11-24 11:00:00")
    automated = s.conversation(main, bot, "2026-11-24 10:00:00", "2026-11-24 10:02:00")
    s.message(automated, "bot", "2026-11-24 10:00:05")
    s.conversation(main, None, "2026-11-24 10:30:00", "2026-11-24 10:31:00")
    queued = s.conversation(main, None, "2026-11-24 11:55:00", channel="call")
    s.message(queued, "visitor", "2026-11-24 11:55:00")
    # Tokyo's day began at 15:00 UTC yesterday: Cid's and Ben's conversations are today's.
    late = s.conversation(tokyo, cid, "2026-11-23 16:00:00", "2026-11-23 16:30:00")
    s.message(late, "agent", "2026-11-23 16:02:00")
    s.transaction(late, "30", "USD", "2026-11-23 16:20:00")
    s.conversation(tokyo, ben, "2026-11-24 11:50:00")
    s.objective("site contacts", "conversations", 40, site=main)
    s.objective("agent contacts", "conversations", 12, site=main, agent=ann)
    s.objective("day contacts", "conversations", 8, agent=cid)
    return s


async def test_names_off_puts_each_agents_id_in_its_agent_label(database_url: str) -> None:
    await reference_centre().write(database_url)
    settings = Settings(objectives=CONFIGURED)

    named = await exposition(database_url, settings)
    anonymous = await exposition(database_url, replace(settings, agent_names=False))

    assert anonymous == with_ids_for_names(named)
    # Not vacuous: the names were there, escaped, in agent series and objectives.
    for escaped in ('agent="Ann \\"A.\\" O\\\\Neil"', 'agent="Ben\\nBis"', 'agent="Cid"'):
        assert escaped in named
        assert escaped not in anonymous
    assert 'objective="agent contacts",metric="conversations",agent_id="1",agent="1"} 12' in (
        anonymous
    )
    assert 'chat_agent_status{site="tokyo",agent_id="2",agent="2",status="busy"} 1' in anonymous


async def test_per_agent_off_keeps_the_site_figures_byte_for_byte(database_url: str) -> None:
    await reference_centre().write(database_url)
    settings = Settings(objectives=CONFIGURED)

    full = await exposition(database_url, settings)
    sites_only = await exposition(database_url, replace(settings, per_agent=False))

    assert sites_only == site_figures_only(full)
    assert "agent_" not in sites_only.replace('agent_id=""', "")
    # Not vacuous: what was left out was there, and what stays is not all zeros.
    assert 'agent="Ben\\nBis",reason="lunch"} 1' in full
    assert 'objective="day contacts"' in full
    assert 'chat_objective_value{site="main",objective="productivity"' in full
    assert 'chat_objective_target{site="main",objective="productivity"' in sites_only
    assert 'chat_conversations_signaled{site="main",signal="response_time"} 1' in sites_only
    assert 'chat_turnover_today{site="tokyo",currency="USD"} 30' in sites_only


async def test_per_agent_off_reads_no_agent_rows(database_url: str) -> None:
    """The source skips the statements that only per-agent figures need, rather than
    reading rows that nothing publishes."""
    await reference_centre().write(database_url)

    readings = await _readings(database_url, Settings(per_agent=False))

    assert readings.days  # the site figures were read
    for name in ("agents", "connected", "presence", "status_times", "sessions"):
        assert getattr(readings, name) == (), name


async def _readings(url: str, settings: Settings, schema: str = "reference") -> Readings:
    engine = create_engine(url, pool_size=1)
    try:
        async with read_only(engine, statement_timeout=30) as connection:
            return await SCHEMAS[schema](settings).read(connection, utc(NOW).replace(tzinfo=UTC))
    finally:
        await engine.dispose()


# --- Chatwoot ---------------------------------------------------------------------------------

T = epoch(NOW)


async def chatwoot_centre(url: str, presence: Presence) -> None:
    """An account with a chat and a voice inbox, agents known by their display names,
    presence in Redis, and today's conversations of every kind."""
    s = Chatwoot()
    acme = s.account()
    web, voice = s.inbox(acme, "Website"), s.inbox(acme, "Voice", channel_type="Channel::Voice")
    ann = s.agent(acme, "ann.smith", [web, voice], display_name='Ann "A."')
    ben = s.agent(acme, "ben", [web])  # id 2: the configured agent objective's
    cid = s.agent(acme, "cid", [voice], "offline", display_name="Cid\\C")
    answered = s.conversation(
        web,
        ann,
        "2026-11-24 09:00:00",
        "resolved",
        updated="2026-11-24 09:10:00",
        first_reply="2026-11-24 09:00:30",
    )
    s.resolved_event(answered, 600, "2026-11-24 09:10:00")
    s.csat(answered, 4, "2026-11-24 09:11:00")
    s.conversation(web, ben, "2026-11-24 08:00:00", waiting_since="2026-11-24 11:00:00")
    s.conversation(web, None, "2026-11-24 11:58:00")  # waiting
    s.conversation(web, None, "2026-11-24 11:30:00", "pending")  # a bot's
    abandoned = s.conversation(
        voice, cid, "2026-11-24 10:00:00", "resolved", updated="2026-11-24 10:01:00"
    )
    s.resolved_event(abandoned, 60, "2026-11-24 10:01:00")
    await s.write(url)
    await presence.heartbeat(acme, ann, T - 5)
    await presence.heartbeat(acme, ben, T - 5)
    await presence.status(acme, ben, "busy")


async def test_chatwoot_names_off_puts_ids_in_the_agent_label(
    chatwoot_url: str, presence: Presence
) -> None:
    await chatwoot_centre(chatwoot_url, presence)
    settings = Settings(objectives=CONFIGURED, chatwoot=presence.settings())

    named = await exposition(chatwoot_url, settings, "chatwoot")
    anonymous = await exposition(chatwoot_url, replace(settings, agent_names=False), "chatwoot")

    assert anonymous == with_ids_for_names(named)
    for escaped in ('agent="Ann \\"A.\\""', 'agent="ben"', 'agent="Cid\\\\C"'):
        assert escaped in named
        assert escaped not in anonymous
    assert 'chat_agent_status{site="Website",agent_id="2",agent="2",status="busy"} 1' in anonymous


async def test_chatwoot_per_agent_off_keeps_the_site_figures_byte_for_byte(
    chatwoot_url: str, presence: Presence
) -> None:
    await chatwoot_centre(chatwoot_url, presence)
    settings = Settings(objectives=CONFIGURED, chatwoot=presence.settings())

    full = await exposition(chatwoot_url, settings, "chatwoot")
    sites_only = await exposition(chatwoot_url, replace(settings, per_agent=False), "chatwoot")
    readings = await _readings(
        chatwoot_url, replace(settings, per_agent=False, objectives=()), "chatwoot"
    )

    assert sites_only == site_figures_only(full)
    assert "agent_" not in sites_only.replace('agent_id=""', "")
    assert 'objective="agent contacts",metric="conversations",agent_id="2"' in full
    assert 'chat_agents{site="Website",status="busy"} 1' in sites_only  # from Redis
    assert 'chat_conversations_abandoned_today{site="Voice"} 1' in sites_only
    assert (readings.agents, readings.connected) == ((), ())


# --- names are not read: a database role that may not read them suffices ----------------------


RoleFor = Callable[[str, Sequence[str]], Awaitable[str]]


@pytest.fixture
async def role_for() -> AsyncIterator[RoleFor]:
    """Makes a PostgreSQL role of this test's own on the database of a URL, with the given
    grants, and returns the role's URL; the roles are dropped afterwards."""
    made: list[tuple[str, str]] = []

    async def make(url: str, grants: Sequence[str]) -> str:
        role, password = f"cse_privacy_{secrets.token_hex(4)}", secrets.token_hex(12)
        await _admin(url, [f"CREATE ROLE {role} LOGIN PASSWORD '{password}'"])
        made.append((url, role))
        await _admin(
            url,
            [
                f'GRANT CONNECT ON DATABASE "{make_url(url).database}" TO {role}',
                f"GRANT USAGE ON SCHEMA public TO {role}",
                *(grant.format(role=role) for grant in grants),
            ],
        )
        target = make_url(url).set(username=role, password=password)
        return target.render_as_string(hide_password=False)

    yield make
    for url, role in made:
        await _admin(url, [f"DROP OWNED BY {role}", f"DROP ROLE {role}"])


async def _admin(url: str, statements: Sequence[str]) -> None:
    connection = await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


REFERENCE_GRANTS = (
    "GRANT SELECT ON sites, agent_sites, agent_sessions, conversations, messages, "
    "satisfaction_ratings, transactions, objectives TO {role}",
    "GRANT SELECT (id, is_bot, max_slots) ON agents TO {role}",
)
CHATWOOT_GRANTS = (
    "GRANT SELECT ON inboxes, inbox_members, account_users, conversations, messages, "
    "reporting_events, csat_survey_responses, inbox_capacity_limits TO {role}",
    "GRANT SELECT (id) ON users TO {role}",
)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_names_off_reads_no_name_of_the_reference_schema(
    database_url: str, role_for: RoleFor
) -> None:
    await reference_centre().write(database_url)
    reader = await role_for(database_url, REFERENCE_GRANTS)

    anonymous = await exposition(reader, Settings(agent_names=False))

    assert anonymous == with_ids_for_names(await exposition(database_url, Settings()))
    with pytest.raises(ProgrammingError, match="permission denied for table agents"):
        await exposition(reader, Settings())


async def test_names_off_reads_no_name_of_chatwoot(
    chatwoot_url: str, presence: Presence, role_for: RoleFor
) -> None:
    await chatwoot_centre(chatwoot_url, presence)
    reader = await role_for(chatwoot_url, CHATWOOT_GRANTS)
    settings = Settings(chatwoot=presence.settings())

    anonymous = await exposition(reader, replace(settings, agent_names=False), "chatwoot")

    assert anonymous == with_ids_for_names(await exposition(chatwoot_url, settings, "chatwoot"))
    with pytest.raises(ProgrammingError, match="permission denied for table users"):
        await exposition(reader, settings, "chatwoot")


# --- the real process reads the switches from its configuration file --------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("privacy", "present", "absent"),
    [
        (
            "{agent_names: false}",
            'chat_agent_status{site="main",agent_id="1",agent="1",status="available"} 1',
            "Ann",
        ),
        ("{per_agent: false}", 'chat_agents{site="main",status="available"} 1', "chat_agent_"),
    ],
)
def test_the_exporter_reads_the_switches_from_its_file(
    sqlite_url: str, tmp_path: Path, privacy: str, present: str, absent: str
) -> None:
    s = Scenario()
    main = s.site("main")
    ann = s.agent("Ann", [main])
    an_hour_ago = datetime.fromtimestamp(time.time() - 3600, UTC)
    s.session(ann, "available", an_hour_ago.strftime("%Y-%m-%d %H:%M:%S"))
    asyncio.run(s.write(sqlite_url))
    (tmp_path / "chat.yml").write_text(f"privacy: {privacy}\n")

    with exporter(
        ["--database.url", sqlite_url, "--config.file", str(tmp_path / "chat.yml")], tmp_path
    ) as running:
        body = running.get()

    assert "chat_up 1" in body
    assert present in body
    assert absent not in body
