#!/usr/bin/env bash
# The chat database's accounts for the composed stack. The postgres image runs this once,
# when it initialises an empty data volume; to change a password later, use ALTER ROLE (or
# `docker compose down --volumes` to start afresh).
#
#   chat_writer     the demo simulator: creates the reference schema, then writes into it
#   chat_exporter   the exporter: SELECT only
#   grafana_reader  Grafana's live-conversations dashboard: SELECT only
#
# The tables do not exist yet (the demo creates them as chat_writer), hence default
# privileges: every table chat_writer creates is readable by the two readers. Passwords
# come from the environment (docker-compose.yml documents them and their demo defaults).

psql --no-psqlrc --set=ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set=database="$POSTGRES_DB" \
    --set=writer_password="${CHAT_WRITER_DB_PASSWORD:?is not set}" \
    --set=exporter_password="${CHAT_EXPORTER_DB_PASSWORD:?is not set}" \
    --set=grafana_password="${CHAT_GRAFANA_DB_PASSWORD:?is not set}" <<'SQL'
CREATE ROLE chat_writer LOGIN PASSWORD :'writer_password';
CREATE ROLE chat_exporter LOGIN PASSWORD :'exporter_password';
CREATE ROLE grafana_reader LOGIN PASSWORD :'grafana_password';

REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO chat_writer, chat_exporter, grafana_reader;
GRANT USAGE, CREATE ON SCHEMA public TO chat_writer;
GRANT USAGE ON SCHEMA public TO chat_exporter, grafana_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE chat_writer IN SCHEMA public
    GRANT SELECT ON TABLES TO chat_exporter, grafana_reader;

-- Belt and braces for the readers: even a statement typed into Grafana cannot write, and
-- cannot run for long.
ALTER ROLE chat_exporter SET default_transaction_read_only = on;
ALTER ROLE grafana_reader SET default_transaction_read_only = on;
ALTER ROLE grafana_reader SET statement_timeout = '10s';
SQL
