"""Command line: ``serve`` (the default), ``check-config``, ``init-db`` and ``demo``.

Flags follow Prometheus' style (``--config.file``, ``--web.listen-address``). Every failure
the operator can fix ends the process with one line on standard error and exit status 1.
"""

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from exporter import __version__, garbage, logs
from exporter.collection import Collection
from exporter.config import Config, ConfigError, database_url, load_config, with_redis_url
from exporter.database import BadURL, Unreachable, async_url, create_engine, read_only, redact
from exporter.demo import chatwoot_simulation, simulation
from exporter.schema import create_schema
from exporter.sources import SCHEMAS
from exporter.web import DEFAULT_PORT, create_app, parse_listen_address
from exporter.web_config import WebConfigError, WebConfigFile

log = logging.getLogger("exporter")

URL_ENV = "CHAT_EXPORTER_DATABASE_URL"
DEMO_URL = "sqlite:///chat-demo.db"
COMMANDS = ("serve", "check-config", "init-db", "demo")


class Failure(Exception):
    """An error to report in one line before exiting with status 1."""


class _Parser(argparse.ArgumentParser):
    """Usage errors are operator errors too: one line and status 1, as Prometheus' tools."""

    def error(self, message: str) -> NoReturn:
        raise Failure(f"{message} (see --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chat-supervision-exporter",
        description="Prometheus exporter for real-time supervision of live-chat and call "
        "contact centres. Without a command, runs `serve`.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="command")

    def command(name: str, help_text: str, *, web_flags: bool) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "--config.file",
            dest="config_file",
            type=Path,
            metavar="PATH",
            help="YAML configuration file (see README); defaults apply without one",
        )
        sub.add_argument(
            "--database.url",
            dest="database_url",
            metavar="URL",
            help=f"database the simulator writes into (default: {DEMO_URL}); the environment "
            "and the config file's URL are ignored, since the demo writes"
            if name == "demo"
            else f"chat database URL: sqlite:///path, postgresql://…, mysql://… or mariadb://…; "
            f"overrides ${URL_ENV} and database.url in the config file",
        )
        sub.add_argument(
            "--database.url-file",
            dest="database_url_file",
            type=Path,
            metavar="PATH",
            help="file holding the database URL (final newline ignored), to keep a password "
            "out of the command line; instead of --database.url",
        )
        sub.add_argument(
            "--database.schema",
            dest="database_schema",
            choices=sorted(SCHEMAS),
            help="the schema flavour of the database (default: database.schema in the config "
            "file, else reference)",
        )
        sub.add_argument(
            "--chatwoot.redis-url-file",
            dest="redis_url_file",
            type=Path,
            metavar="PATH",
            help="file holding Chatwoot's Redis URL (final newline ignored); overrides "
            "chatwoot.redis_url and chatwoot.redis_url_file in the config file",
        )
        sub.add_argument(
            "--log.level",
            dest="log_level",
            choices=list(logs.LEVELS),
            default="info",
            help="log level (default: info)",
        )
        if web_flags:
            sub.add_argument(
                "--web.listen-address",
                dest="listen_address",
                default=f":{DEFAULT_PORT}",
                metavar="ADDRESS",
                help=f"address to listen on (default: :{DEFAULT_PORT})",
            )
            sub.add_argument(
                "--web.telemetry-path",
                dest="telemetry_path",
                default="/metrics",
                metavar="PATH",
                help="path of the metrics (default: /metrics)",
            )
            sub.add_argument(
                "--web.config.file",
                dest="web_config_file",
                type=Path,
                metavar="PATH",
                help="exporter-toolkit web configuration file: TLS and basic authentication",
            )
        return sub

    command("serve", "run the exporter", web_flags=True)
    command(
        "check-config",
        "validate the configuration and the database URL, then exit",
        web_flags=False,
    )
    command(
        "init-db",
        "create the reference schema's missing tables, optional columns, indexes and "
        "statistics, then exit",
        web_flags=False,
    )
    command(
        "demo",
        f"fill a database (default {DEMO_URL}) with a simulated contact centre that keeps "
        "living, and serve its metrics",
        web_flags=True,
    )
    return parser


def _checked(url: str) -> str:
    try:
        async_url(url)
    except BadURL as error:
        raise Failure(str(error)) from error
    return url


def _database_url(args: argparse.Namespace, config: Config) -> str:
    try:
        url = database_url(
            config,
            flag=args.database_url,
            flag_file=args.database_url_file,
            environment=os.environ.get(URL_ENV),
        )
    except ConfigError as error:
        raise Failure(str(error)) from error
    if not url:
        raise Failure(
            f"no database URL: pass --database.url, set {URL_ENV}, "
            "or set database.url in the config file"
        )
    return _checked(url)


def _serve(args: argparse.Namespace, config: Config, url: str, demo: bool = False) -> None:
    try:
        host, port = parse_listen_address(args.listen_address)
    except ValueError as error:
        raise Failure(str(error)) from error
    if not args.telemetry_path.startswith("/"):
        raise Failure(f"--web.telemetry-path must start with /, got {args.telemetry_path!r}")
    try:
        web_config = WebConfigFile(args.web_config_file) if args.web_config_file else None
    except WebConfigError as error:
        raise Failure(str(error)) from error
    engine = create_engine(url, pool_size=config.database.pool_size)
    min_interval = config.collection.min_interval
    collection = Collection(
        engine,
        SCHEMAS[config.database.schema](config.settings()),
        statement_timeout=config.database.statement_timeout,
        min_interval=min_interval,
    )
    app = create_app(
        collection,
        timeout=config.collection.timeout,
        scrape_timeout_offset=config.collection.scrape_timeout_offset,
        telemetry_path=args.telemetry_path,
        help_suffix=f" Cached for up to {min_interval:g}s." if min_interval > 0 else "",
        web_config=web_config,
    )
    if demo:
        app.cleanup_ctx.append(_simulation(config, url))

    async def dispose(_app: web.Application) -> None:
        await engine.dispose()

    app.on_cleanup.append(dispose)
    log.info(
        "exporter %s starting on %s, database %s", __version__, args.listen_address, redact(url)
    )
    ssl_context = web_config.server_ssl_context() if web_config else None
    log.info("TLS is %s", "enabled" if ssl_context else "disabled")
    garbage.tune()
    try:
        web.run_app(
            app, host=host, port=port, ssl_context=ssl_context, print=None, handle_signals=True
        )
    except OSError as error:
        raise Failure(f"cannot listen on {args.listen_address}: {error.strerror}") from error


def _simulation(config: Config, url: str) -> Callable[[web.Application], AsyncIterator[None]]:
    """The demo's simulator for the configured schema, writing into ``url``."""
    if config.database.schema == "chatwoot":
        try:
            return chatwoot_simulation(
                url, config.chatwoot.redis_url, config.chatwoot.redis_key_prefix
            )
        except ValueError as error:
            raise Failure(str(error)) from error
    return simulation(url)


async def _init_db(url: str) -> None:
    engine = create_engine(url, read_only=False, pool_size=1)
    try:
        await create_schema(engine)
    except Exception as error:
        raise Failure(f"init-db failed on {redact(url)}: {str(error).splitlines()[0]}") from error
    finally:
        await engine.dispose()


async def _check_database(config: Config, url: str) -> None:
    """Fail in one line unless the database (and what else the source reads) is usable."""
    source = SCHEMAS[config.database.schema](config.settings())
    engine = create_engine(url, pool_size=1)
    try:
        async with read_only(engine, config.database.statement_timeout) as connection:
            lacking = await source.missing(connection)
    except Unreachable as error:
        raise Failure(f"cannot connect to {redact(url)}: {_first_line(error)}") from error
    except SQLAlchemyError as error:
        raise Failure(f"cannot read {redact(url)}: {_first_line(error)}") from error
    finally:
        await engine.dispose()
    if lacking:
        raise Failure(
            f"{redact(url)} is not usable as a {config.database.schema} database: "
            f"missing {'; '.join(lacking)} ({source.hint})"
        )


def _presence_summary(config: Config) -> str:
    if config.database.schema != "chatwoot":
        return ""
    redis_url = config.chatwoot.redis_url
    if redis_url is None:
        return ", agents' status from the database (no Redis)"
    return f", presence from Redis {redact(redis_url)}"


def _first_line(error: BaseException) -> str:
    message = str(error).strip() or type(error).__name__
    return message.splitlines()[0]


def _command_first(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[str]:
    """``argv`` with its command first (``serve`` if it names none), so that flags may come
    before the command as well as after it: ``--log.level debug check-config``."""
    taking_values = {
        option
        for sub in _subcommands(parser)
        for action in sub._actions
        if action.nargs != 0
        for option in action.option_strings
    }
    arguments = list(argv)
    if arguments and arguments[0] in ("-h", "--help", "--version"):
        return arguments
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        if argument == "--":
            break
        if not argument.startswith("-"):
            if argument in COMMANDS:
                return [argument, *arguments[:index], *arguments[index + 1 :]]
            break
        index += 2 if argument in taking_values else 1
    return ["serve", *arguments]


def _subcommands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    return [
        sub
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for sub in action.choices.values()
    ]


def run(argv: Sequence[str]) -> None:
    """Parse ``argv`` and run the command; raises Failure for operator errors."""
    parser = _parser()
    args = parser.parse_args(_command_first(parser, argv))
    logs.setup(args.log_level)
    try:
        config = with_redis_url(load_config(args.config_file), args.redis_url_file)
    except ConfigError as error:
        raise Failure(str(error)) from error
    if args.database_schema is not None:
        config = replace(config, database=replace(config.database, schema=args.database_schema))
    if args.command == "serve":
        _serve(args, config, _database_url(args, config))
    elif args.command == "check-config":
        url = _database_url(args, config)
        asyncio.run(_check_database(config, url))
        print(
            f"configuration is valid: database {redact(url)}, schema {config.database.schema}, "
            f"{'sites ' + ', '.join(config.sites) if config.sites else 'all sites'}"
            f"{_presence_summary(config)}"
        )
    elif args.command == "init-db":
        if config.database.schema != "reference":
            raise Failure(
                f"init-db creates the reference schema only; a {config.database.schema} "
                "database is made by its own platform"
            )
        url = _database_url(args, config)
        asyncio.run(_init_db(url))
        print(f"reference schema ready in {redact(url)}")
    elif args.command == "demo":
        # Never the environment's or the config file's URL: the demo writes into its database.
        try:
            demo_url = database_url(
                Config(), flag=args.database_url, flag_file=args.database_url_file, environment=None
            )
        except ConfigError as error:
            raise Failure(str(error)) from error
        _serve(args, config, _checked(demo_url or DEMO_URL), demo=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point."""
    try:
        run(sys.argv[1:] if argv is None else argv)
    except Failure as error:
        print(f"chat-supervision-exporter: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
