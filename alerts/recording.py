"""The recording rules: the derived figures the dashboards and the alerts share.

docs/metrics.md ("Recording rules") lists them with their PromQL as rendered with an empty
job selector, and tests/test_rules.py holds the two equal.
"""

from alerts.rules import Group, Recording
from mixin.settings import Settings, number

NAME = "chat-recording"

COMMENT = (
    'Derived figures shared by the dashboards and the alerts (docs/metrics.md, "Recording '
    'rules"). Every rule keeps the job, instance and site labels of the raw series, and the '
    "agent, criterion, objective or status labels where its name says so. Every series "
    "selector carries the job selector, those of recorded series too, so that another job's "
    'series of the same names are never mixed in. A denominator is filtered with "> 0", so '
    "that a ratio over zero yields no series instead of NaN or +Inf. One group, whose rules "
    "Prometheus evaluates in order: a rule reads those above it at their newest."
)

# The objectives where lower is better: their progress is target / value.
LOWER_IS_BETTER = "handling_time|first_response_time|abandon_rate"


def group(settings: Settings) -> Group:
    series = settings.selector

    def ratio(numerator: str, denominator: str) -> str:
        return f"{series(numerator)} / ({series(denominator)} > 0)"

    def last_hour(today: str, comment: str = "") -> Recording:
        name = today.removeprefix("chat_").removesuffix("_today")
        now = series(today)
        return Recording(
            f"site:chat_{name}:last_hour", f"({now} - {now} offset 1h) >= 0 or {now}", comment
        )

    def summed(without: str, metric: str, *matchers: str) -> str:
        return f"sum without ({without}) ({series(metric, *matchers)})"

    good = 'rating="good"'
    service_level = 'metric="service_level"'
    site_wide = 'agent_id=""'
    higher = f'metric!~"{LOWER_IS_BETTER}"'
    lower = f'metric=~"{LOWER_IS_BETTER}"'
    answered_in_target = series("chat_conversations_answered_in_target_today")
    answered = series("chat_conversations_answered_today")
    abandoned = series("chat_conversations_abandoned_today")
    hour = {
        name: series(f"site:chat_conversations{name}:last_hour")
        for name in ("_answered_in_target", "_answered", "_abandoned", "_ended")
    }
    status_since = "site_agent_status:chat_agent_status_since:timestamp"
    current = f"({series('chat_agent_status')} == 1)"
    rules = (
        Recording(
            "site:chat_handling_time_seconds:avg_today",
            ratio("chat_handling_time_seconds_today", "chat_conversations_ended_today"),
        ),
        Recording(
            "site_agent:chat_handling_time_seconds:avg_today",
            ratio("chat_agent_handling_time_seconds_today", "chat_agent_conversations_ended_today"),
        ),
        Recording(
            "site:chat_conversations_per_agent_hour:today",
            f"{summed('agent_id, agent', 'chat_agent_conversations_today')} / "
            f"({summed('agent_id, agent', 'chat_agent_presence_seconds_today')} > 0) * 3600",
        ),
        Recording(
            "site_agent:chat_conversations_per_hour:today",
            ratio("chat_agent_conversations_today", "chat_agent_presence_seconds_today")
            + " * 3600",
        ),
        Recording(
            "site:chat_conversion:ratio_today",
            ratio("chat_conversations_converted_today", "chat_conversations_today"),
        ),
        Recording(
            "site_agent:chat_conversion:ratio_today",
            ratio("chat_agent_conversations_converted_today", "chat_agent_conversations_today"),
        ),
        Recording(
            "site:chat_satisfaction_score:avg_today",
            f"{summed('criterion', 'chat_satisfaction_score_today')} / "
            f"({summed('criterion, rating', 'chat_satisfaction_ratings_today')} > 0)",
        ),
        Recording(
            "site_criterion:chat_satisfaction_score:avg_today",
            f"{series('chat_satisfaction_score_today')} / "
            f"({summed('rating', 'chat_satisfaction_ratings_today')} > 0)",
        ),
        Recording(
            "site_agent:chat_satisfaction_score:avg_today",
            f"{summed('criterion', 'chat_agent_satisfaction_score_today')} / "
            f"({summed('criterion', 'chat_agent_satisfaction_ratings_today')} > 0)",
        ),
        Recording(
            "site:chat_satisfaction_good:ratio_today",
            f"{summed('criterion, rating', 'chat_satisfaction_ratings_today', good)} / "
            f"({summed('criterion, rating', 'chat_satisfaction_ratings_today')} > 0)",
        ),
        Recording(
            "site:chat_service_level:ratio_today",
            f"{answered_in_target} / (({answered} + {abandoned}) > 0)",
            comment="Service of the day: the service level counts an abandoned conversation "
            "as missed, so that a queue nobody answers cannot look healthy.",
        ),
        Recording(
            "site:chat_first_response_seconds:avg_today",
            ratio("chat_first_response_seconds_today", "chat_conversations_answered_today"),
        ),
        Recording(
            "site_agent:chat_first_response_seconds:avg_today",
            ratio(
                "chat_agent_first_response_seconds_today", "chat_agent_conversations_answered_today"
            ),
        ),
        Recording(
            "site:chat_abandon:ratio_today",
            ratio("chat_conversations_abandoned_today", "chat_conversations_ended_today"),
        ),
        last_hour(
            "chat_conversations_today",
            "The last hour, from the today-gauges: they are exact counts, so their "
            "difference with an hour ago is exact too, where increase() would extrapolate to "
            "the window's edges (fractions of a conversation). The gauges fall at the site's "
            "midnight: in the hour after it the difference is negative, and the new day's "
            "figure so far stands instead; so does the day's figure when there was no sample "
            "an hour ago.",
        ),
        last_hour("chat_conversations_answered_today"),
        last_hour("chat_conversations_answered_in_target_today"),
        last_hour("chat_conversations_abandoned_today"),
        last_hour("chat_conversations_ended_today"),
        Recording(
            "site:chat_service_level:ratio_last_hour",
            f"{hour['_answered_in_target']} / (({hour['_answered']} + {hour['_abandoned']}) > 0)",
            comment="Ratios of the hour's counts recorded just above, in the same evaluation.",
        ),
        Recording(
            "site:chat_abandon:ratio_last_hour",
            f"{hour['_abandoned']} / ({hour['_ended']} > 0)",
        ),
        Recording(
            "site:chat_service_level_objective:ratio",
            "max without (objective, metric, agent_id, agent) "
            f"({series('chat_objective_target', service_level, site_wide)}) "
            f"or {series('chat_service_level_target_seconds')} * 0 "
            f"+ {number(settings.service_level_objective)}",
            comment="The service level a site should reach: its own service_level objective "
            "(the highest if it has several), else "
            f"{number(settings.service_level_objective)}; the service-level target, published for "
            "every site, gives that default the site's labels.",
        ),
        Recording(
            "objective:chat_objective_progress:ratio",
            f"{series('chat_objective_value', higher)}\n"
            f"  / ({series('chat_objective_target', higher)} > 0)\n"
            f"or {series('chat_objective_target', lower)}\n"
            f"  / ({series('chat_objective_value', lower)} > 0)\n"
            f"or ({series('chat_objective_value', lower)} == 0) + 1",
            comment="Progress towards the target, 1 when reached. For handling time, first "
            "response time and abandon rate lower is better, so the ratio is inverted, and a "
            "value of 0 (no abandoned conversation, say) has reached any target: 1 rather "
            "than no series.",
        ),
        Recording("site:chat_slots:sum", summed("kind", "chat_slots")),
        Recording("site:chat_slots_available:sum", summed("kind", "chat_slots_available")),
        Recording(
            status_since,
            f"{series(status_since)} and {current}\n"
            f"or timestamp({series('chat_agent_status')}) and {current}",
            comment="When the agent's current status started, for schemas without a status "
            "history (Chatwoot): the time of the first scrape that saw it, kept from the "
            "rule's own previous value while that status stays current. timestamp() takes a "
            "plain selector: VictoriaMetrics' vmalert would turn timestamp() of an expression "
            "into a subquery aligned to its evaluation step. A status left stops the series, "
            "and Prometheus writes it a staleness marker, so the status re-entered later "
            "starts anew; so does a disconnected agent, whose chat_agent_status vanishes. "
            '"and" matches on every label, the agent\'s name included: a renamed agent starts '
            "anew rather than being doubled.",
        ),
    )
    return Group(NAME, COMMENT, rules)
