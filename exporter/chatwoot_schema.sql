-- The Chatwoot tables the exporter reads, and those next to them, recreated without Rails.
--
-- Source: Chatwoot release 4.9.1, db/schema.rb version 2025_11_19_161025 (upstream commit
-- 79381a4c5), transcribed in ../shared/research/chat-platform-schemas.md section 1.6. Only a
-- subset of tables and, within them, of columns; no foreign keys, as in schema.rb.
--
-- Type mapping from the Rails DSL (ActiveRecord::Schema[7.1], PostgreSQL adapter):
--   create_table id: :serial         -> id serial PRIMARY KEY
--   create_table (default id)        -> id bigserial PRIMARY KEY
--   t.string                         -> varchar (limit: n -> varchar(n))
--   t.text / t.integer / t.bigint    -> text / integer / bigint
--   t.float                          -> double precision
--   t.boolean / t.json / t.jsonb     -> boolean / json / jsonb
--   t.uuid, default gen_random_uuid  -> uuid DEFAULT gen_random_uuid() (built in since PG 13)
--   t.datetime, precision: nil       -> timestamp (without time zone)
--   t.datetime (Rails 7 default)     -> timestamp(6) (without time zone)
-- Rails stores every timestamp as naive UTC. Defaults and NOT NULL are kept as in schema.rb.
--
-- Left out on purpose: the hairtrigger triggers that fill conversations.display_id from the
-- per-account sequences conv_dpid_seq_<account_id> (tests insert display_id themselves), and
-- the extensions (pg_trgm, pgcrypto, vector): these tables need none of them on PostgreSQL 15.
-- Indexes: Chatwoot's own on the tables the exporter reads, as db/schema.rb declares them
-- (collected at the end of this file), and no other: the exporter may not add any to an
-- operator's Chatwoot database, so the benchmark and the tests run with these alone.

CREATE TABLE accounts (
  id serial PRIMARY KEY,
  name varchar NOT NULL,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  auto_resolve_duration integer,
  status integer DEFAULT 0,
  settings jsonb DEFAULT '{}'
);

CREATE TABLE users (
  id serial PRIMARY KEY,
  provider varchar DEFAULT 'email' NOT NULL,
  uid varchar DEFAULT '' NOT NULL,
  name varchar NOT NULL,
  display_name varchar,
  email varchar,
  availability integer DEFAULT 0,  -- legacy, superseded by account_users.availability
  type varchar,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL
);

CREATE TABLE account_users (
  id bigserial PRIMARY KEY,
  account_id bigint,
  user_id bigint,
  role integer DEFAULT 0,  -- agent 0, administrator 1
  inviter_id bigint,
  created_at timestamp(6) NOT NULL,
  updated_at timestamp(6) NOT NULL,
  active_at timestamp,
  availability integer DEFAULT 0 NOT NULL,  -- online 0, offline 1, busy 2
  auto_offline boolean DEFAULT true NOT NULL,
  custom_role_id bigint,
  agent_capacity_policy_id bigint  -- migration 20250806
);
CREATE UNIQUE INDEX uniq_user_id_per_account_id ON account_users (account_id, user_id);

CREATE TABLE inboxes (
  id serial PRIMARY KEY,
  channel_id integer NOT NULL,
  account_id integer NOT NULL,
  name varchar NOT NULL,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  channel_type varchar,  -- 'Channel::WebWidget', 'Channel::Voice', ...
  enable_auto_assignment boolean DEFAULT true,
  working_hours_enabled boolean DEFAULT false,
  timezone varchar DEFAULT 'UTC',
  csat_survey_enabled boolean DEFAULT false,
  auto_assignment_config jsonb DEFAULT '{}',
  csat_config jsonb DEFAULT '{}' NOT NULL
);

CREATE TABLE channel_web_widgets (
  id serial PRIMARY KEY,
  website_url varchar,
  account_id integer,
  website_token varchar,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL
);

CREATE TABLE inbox_members (
  id serial PRIMARY KEY,
  user_id integer NOT NULL,
  inbox_id integer NOT NULL,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL
);

CREATE TABLE teams (
  id bigserial PRIMARY KEY,
  name varchar NOT NULL,
  description text,
  allow_auto_assign boolean DEFAULT true,
  account_id bigint NOT NULL,
  created_at timestamp(6) NOT NULL,
  updated_at timestamp(6) NOT NULL
);

CREATE TABLE team_members (
  id bigserial PRIMARY KEY,
  team_id bigint NOT NULL,
  user_id bigint NOT NULL,
  created_at timestamp(6) NOT NULL,
  updated_at timestamp(6) NOT NULL
);

CREATE TABLE conversations (
  id serial PRIMARY KEY,
  account_id integer NOT NULL,
  inbox_id integer NOT NULL,
  status integer DEFAULT 0 NOT NULL,  -- open 0, resolved 1, pending 2, snoozed 3
  assignee_id integer,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  contact_id bigint,
  display_id integer NOT NULL,
  contact_last_seen_at timestamp,
  agent_last_seen_at timestamp,
  additional_attributes jsonb DEFAULT '{}',
  contact_inbox_id bigint,
  uuid uuid DEFAULT gen_random_uuid() NOT NULL,
  identifier varchar,
  last_activity_at timestamp DEFAULT CURRENT_TIMESTAMP NOT NULL,
  team_id bigint,
  campaign_id bigint,
  snoozed_until timestamp,
  custom_attributes jsonb DEFAULT '{}',
  assignee_last_seen_at timestamp,
  first_reply_created_at timestamp,
  priority integer,  -- low 0, medium 1, high 2, urgent 3
  sla_policy_id bigint,
  waiting_since timestamp(6),  -- migration 20230620
  cached_label_list text,
  assignee_agent_bot_id bigint  -- migration 20251022
);
CREATE INDEX conv_acid_inbid_stat_asgnid_idx ON conversations (account_id, inbox_id, status, assignee_id);

CREATE TABLE messages (
  id serial PRIMARY KEY,
  content text,
  account_id integer NOT NULL,
  inbox_id integer NOT NULL,
  conversation_id integer NOT NULL,
  message_type integer NOT NULL,  -- incoming 0, outgoing 1, activity 2, template 3
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  private boolean DEFAULT false NOT NULL,
  status integer DEFAULT 0,
  source_id text,
  content_type integer DEFAULT 0 NOT NULL,  -- input_csat 9
  content_attributes json DEFAULT '{}',
  sender_type varchar,
  sender_id bigint,
  additional_attributes jsonb DEFAULT '{}'
);
CREATE INDEX index_messages_on_conversation_account_type_created
  ON messages (conversation_id, account_id, message_type, created_at);

CREATE TABLE csat_survey_responses (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL,
  conversation_id bigint NOT NULL,
  message_id bigint NOT NULL UNIQUE,
  rating integer NOT NULL,  -- 1 to 5
  feedback_message text,
  contact_id bigint NOT NULL,
  assigned_agent_id bigint,
  created_at timestamp(6) NOT NULL,
  updated_at timestamp(6) NOT NULL
);

CREATE TABLE reporting_events (
  id bigserial PRIMARY KEY,
  name varchar,  -- conversation_resolved, first_response, reply_time, ...
  value double precision,  -- seconds
  account_id integer,
  inbox_id integer,
  user_id integer,
  conversation_id integer,
  created_at timestamp(6) NOT NULL,
  updated_at timestamp(6) NOT NULL,
  value_in_business_hours double precision,
  event_start_time timestamp,
  event_end_time timestamp
);
CREATE INDEX reporting_events__account_id__name__created_at
  ON reporting_events (account_id, name, created_at);

CREATE TABLE working_hours (
  id bigserial PRIMARY KEY,
  inbox_id bigint,
  account_id bigint,
  day_of_week integer NOT NULL,  -- 0 = Sunday
  closed_all_day boolean DEFAULT false,
  open_hour integer,
  open_minutes integer,
  close_hour integer,
  close_minutes integer,
  created_at timestamp(6) NOT NULL,
  updated_at timestamp(6) NOT NULL,
  open_all_day boolean DEFAULT false
);

CREATE TABLE sla_policies (
  id bigserial PRIMARY KEY,
  name varchar NOT NULL,
  first_response_time_threshold double precision,
  next_response_time_threshold double precision,
  only_during_business_hours boolean DEFAULT false,
  account_id bigint NOT NULL,
  created_at timestamp(6) NOT NULL,
  updated_at timestamp(6) NOT NULL,
  description varchar,
  resolution_time_threshold double precision
);

CREATE TABLE applied_slas (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL,
  sla_policy_id bigint NOT NULL,
  conversation_id bigint NOT NULL,
  created_at timestamp(6) NOT NULL,
  updated_at timestamp(6) NOT NULL,
  sla_status integer DEFAULT 0
);

CREATE TABLE sla_events (
  id bigserial PRIMARY KEY,
  applied_sla_id bigint NOT NULL,
  conversation_id bigint NOT NULL,
  account_id bigint NOT NULL,
  sla_policy_id bigint NOT NULL,
  inbox_id bigint NOT NULL,
  event_type integer,  -- frt 0, nrt 1, rt 2
  meta jsonb DEFAULT '{}',
  created_at timestamp(6) NOT NULL,
  updated_at timestamp(6) NOT NULL
);

-- Assignment v2 (Enterprise), migration 20250806: absent from older releases.
CREATE TABLE agent_capacity_policies (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL,
  name varchar(255) NOT NULL,
  description text,
  exclusion_rules jsonb DEFAULT '{}' NOT NULL,
  created_at timestamp(6) NOT NULL,
  updated_at timestamp(6) NOT NULL
);

CREATE TABLE inbox_capacity_limits (
  id bigserial PRIMARY KEY,
  agent_capacity_policy_id bigint NOT NULL,
  inbox_id bigint NOT NULL,
  conversation_limit integer NOT NULL,
  created_at timestamp(6) NOT NULL,
  updated_at timestamp(6) NOT NULL
);

-- The rest of Chatwoot's indexes on the tables the exporter reads (db/schema.rb).
CREATE INDEX index_account_users_on_account_id ON account_users (account_id);
CREATE INDEX index_account_users_on_agent_capacity_policy_id ON account_users (agent_capacity_policy_id);
CREATE INDEX index_account_users_on_custom_role_id ON account_users (custom_role_id);
CREATE INDEX index_account_users_on_user_id ON account_users (user_id);
CREATE INDEX index_accounts_on_status ON accounts (status);
CREATE INDEX index_inboxes_on_account_id ON inboxes (account_id);
CREATE INDEX index_inboxes_on_channel_id_and_channel_type ON inboxes (channel_id, channel_type);
CREATE UNIQUE INDEX index_inbox_members_on_inbox_id_and_user_id ON inbox_members (inbox_id, user_id);
CREATE INDEX index_inbox_members_on_inbox_id ON inbox_members (inbox_id);
CREATE UNIQUE INDEX index_conversations_on_account_id_and_display_id ON conversations (account_id, display_id);
CREATE INDEX index_conversations_on_id_and_account_id ON conversations (account_id, id);
CREATE INDEX index_conversations_on_account_id ON conversations (account_id);
CREATE INDEX index_conversations_on_assignee_id_and_account_id ON conversations (assignee_id, account_id);
CREATE INDEX index_conversations_on_campaign_id ON conversations (campaign_id);
CREATE INDEX index_conversations_on_contact_id ON conversations (contact_id);
CREATE INDEX index_conversations_on_contact_inbox_id ON conversations (contact_inbox_id);
CREATE INDEX index_conversations_on_first_reply_created_at ON conversations (first_reply_created_at);
CREATE INDEX index_conversations_on_inbox_id ON conversations (inbox_id);
CREATE INDEX index_conversations_on_priority ON conversations (priority);
CREATE INDEX index_conversations_on_status_and_account_id ON conversations (status, account_id);
CREATE INDEX index_conversations_on_status_and_priority ON conversations (status, priority);
CREATE INDEX index_conversations_on_team_id ON conversations (team_id);
CREATE UNIQUE INDEX index_conversations_on_uuid ON conversations (uuid);
CREATE INDEX index_conversations_on_waiting_since ON conversations (waiting_since);
CREATE INDEX index_messages_on_conversation_id ON messages (conversation_id);
CREATE INDEX index_messages_on_account_id ON messages (account_id);
CREATE INDEX index_messages_on_account_created_type ON messages (account_id, created_at, message_type);
CREATE INDEX index_messages_on_created_at ON messages (created_at);
CREATE INDEX index_messages_on_inbox_id ON messages (inbox_id);
CREATE INDEX index_messages_on_sender_type_and_sender_id ON messages (sender_type, sender_id);
CREATE INDEX index_csat_survey_responses_on_account_id ON csat_survey_responses (account_id);
CREATE INDEX index_csat_survey_responses_on_assigned_agent_id ON csat_survey_responses (assigned_agent_id);
CREATE INDEX index_csat_survey_responses_on_contact_id ON csat_survey_responses (contact_id);
CREATE INDEX index_csat_survey_responses_on_conversation_id ON csat_survey_responses (conversation_id);
CREATE INDEX index_reporting_events_on_account_id ON reporting_events (account_id);
CREATE INDEX index_reporting_events_on_conversation_id ON reporting_events (conversation_id);
CREATE INDEX index_reporting_events_on_created_at ON reporting_events (created_at);
CREATE INDEX index_reporting_events_on_inbox_id ON reporting_events (inbox_id);
CREATE INDEX index_reporting_events_on_name ON reporting_events (name);
CREATE INDEX index_reporting_events_on_user_id ON reporting_events (user_id);
CREATE INDEX index_agent_capacity_policies_on_account_id ON agent_capacity_policies (account_id);
CREATE UNIQUE INDEX idx_on_agent_capacity_policy_id_inbox_id_71c7ec4caf
  ON inbox_capacity_limits (agent_capacity_policy_id, inbox_id);
CREATE INDEX index_inbox_capacity_limits_on_agent_capacity_policy_id
  ON inbox_capacity_limits (agent_capacity_policy_id);
CREATE INDEX index_inbox_capacity_limits_on_inbox_id ON inbox_capacity_limits (inbox_id);
