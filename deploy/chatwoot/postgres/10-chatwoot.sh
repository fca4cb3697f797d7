#!/usr/bin/env bash
# The Chatwoot-shaped database of the composed stack's `chatwoot` profile. The postgres image
# runs this once, when it initialises an empty data volume.
#
#   chatwoot        plays Chatwoot itself (the demo simulator): owns Chatwoot's tables, writes
#   chat_exporter   the exporter: SELECT on the Chatwoot tables it reads, nothing else
#   grafana_reader  chatwoot-grafana's drill-down: SELECT on what its SQL reads
#
# The tables are created here, from Chatwoot's DDL (exporter/chatwoot_schema.sql, mounted at
# $CHATWOOT_SCHEMA_FILE), as the chatwoot role: then the exporter's grants below are exactly
# what the README asks an operator to run on a real Chatwoot database. Of users, the readers
# get the name columns only: on a real Chatwoot the table holds password hashes and tokens.
# Passwords come from the environment (docker-compose.yml documents them and their demo
# defaults).

psql --no-psqlrc --set=ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set=database="$POSTGRES_DB" \
    --set=schema_file="${CHATWOOT_SCHEMA_FILE:-/opt/chatwoot/chatwoot_schema.sql}" \
    --set=chatwoot_password="${CHATWOOT_DB_PASSWORD:?is not set}" \
    --set=exporter_password="${CHAT_EXPORTER_DB_PASSWORD:?is not set}" \
    --set=grafana_password="${CHAT_GRAFANA_DB_PASSWORD:?is not set}" <<'SQL'
CREATE ROLE chatwoot LOGIN PASSWORD :'chatwoot_password';
CREATE ROLE chat_exporter LOGIN PASSWORD :'exporter_password';
CREATE ROLE grafana_reader LOGIN PASSWORD :'grafana_password';

REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO chatwoot, chat_exporter, grafana_reader;
GRANT USAGE, CREATE ON SCHEMA public TO chatwoot;
GRANT USAGE ON SCHEMA public TO chat_exporter, grafana_reader;

SET ROLE chatwoot;
\i :schema_file
RESET ROLE;

-- The tables the exporter reads, and only those (README, "Supervising Chatwoot").
GRANT SELECT ON inboxes, inbox_members, account_users, conversations, messages,
    reporting_events, csat_survey_responses, inbox_capacity_limits TO chat_exporter;
GRANT SELECT (id, name, display_name) ON users TO chat_exporter;
ALTER ROLE chat_exporter SET default_transaction_read_only = on;

-- What the Chatwoot drill-down's SQL reads (dashboards/live_conversations.py), and only that.
GRANT SELECT ON inboxes, inbox_members, conversations TO grafana_reader;
GRANT SELECT (id, name, display_name) ON users TO grafana_reader;
-- As for the reference database: even a statement typed into Grafana cannot write, and
-- cannot run for long.
ALTER ROLE grafana_reader SET default_transaction_read_only = on;
ALTER ROLE grafana_reader SET statement_timeout = '10s';
SQL
