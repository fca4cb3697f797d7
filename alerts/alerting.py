"""The alerting rules: their conditions, severities, durations and what they say.

docs/runbook.md has one section per alert, and tests/test_rules.py checks the conventions
(a static summary, a templated description naming the site, a runbook link that lands).
Go templates are written by concatenation, not in f-strings, to keep their braces readable.
"""

from alerts.rules import Alert, Group
from mixin.settings import Settings, in_words, number, seconds

NAME = "chat-alerts"

COMMENT = (
    "Alerts on the chat exporter's figures (docs/runbook.md has one section per alert). Every "
    "alert keeps the job, instance and site labels, so that Alertmanager groups and inhibits "
    "by site: the down alerts silence the data alerts of the sites they name. The data alerts "
    "keep firing for a while after their condition clears: when the database or the exporter "
    "goes down their series vanish, and the down alerts (whose for is shorter) take over "
    'through inhibition instead of Prometheus sending a misleading "resolved".'
)

# What a down alert adds once it knows which sites the target served, or that it knows none.
_SITES = (
    "{{ if $labels.site }}the figures of site {{ $labels.site }} are unknown{{ else }}no site "
    "has been seen"
)


def _down(settings: Settings, health: str) -> str:
    """``health`` (up or chat_up) at 0, once per site the target served lately, else once."""
    sites = (
        "group by (job, instance, site) (last_over_time("
        + settings.selector("chat_conversations_today")
        + f"[{settings.sites_lookback}]))"
    )
    down = f"{settings.selector(health)} == 0"
    return (
        f"({down})\n  * on (job, instance) group_right ()\n    {sites}\n"
        f"or on (job, instance)\n  {down}"
    )


def _both(first: str, operator: str, second: str) -> str:
    """Two conditions on the same site, on lines of their own."""
    return f"{first}\n  {operator} on (job, instance, site)\n{second}"


def group(settings: Settings) -> Group:
    series = settings.selector
    lookback = f" in the last {in_words(settings.sites_lookback)}{{{{ end }}}}."
    free_slots = series("site:chat_slots_available:sum")
    ahead = in_words(settings.slots_forecast)
    forecast_free = (
        f"predict_linear({free_slots}[{settings.slots_forecast}], "
        f"{number(seconds(settings.slots_forecast))})"
    )
    sites_seen = (
        f"group by (job, site) (last_over_time({series('chat_conversations_today')}"
        f"[{settings.sites_lookback}]))"
    )
    poor = number(settings.satisfaction_poor_below)
    abandon = number(settings.abandon_rate_high)
    waiting = f"sum without (channel) ({series('chat_conversations_waiting')}) > 0"
    hour = {
        name: series(f"site:chat_conversations_{name}:last_hour")
        for name in ("answered", "abandoned", "ended")
    }
    minimum = settings.service_minimum_conversations
    absent = f"absent({series('up')})"

    def alert(
        name: str,
        expr: str,
        for_: str,
        severity: str,
        *,
        summary: str,
        description: str,
        data: bool = True,
        comment: str = "",
    ) -> Alert:
        """An alert linking to its runbook section; a data alert keeps firing a while."""
        return Alert(
            name,
            expr,
            for_,
            severity,
            summary,
            description,
            f"{settings.runbook_url}#{name.lower()}",
            settings.keep_firing_for if data else "",
            comment,
        )

    response_time = series("chat_conversations_signaled", 'signal="response_time"') + " > 0"
    response_time_description = (
        "Conversations on site {{ $labels.site }} whose visitor has waited longer than the "
        "response-time threshold for a reply"
    )
    rules = (
        alert(
            "ChatExporterDown",
            _down(settings, "up"),
            settings.exporter_down_for,
            "critical",
            summary="Prometheus cannot scrape the chat exporter.",
            description=(
                "Prometheus cannot scrape the chat exporter {{ $labels.instance }}; "
                + _SITES
                + " on it"
                + lookback
            ),
            data=False,
            comment="The down alerts name each site the target served in the last "
            f"{in_words(settings.sites_lookback)}: range selectors skip the staleness markers "
            "written when the series vanished, so last_over_time still sees them. With no "
            "site known (a fresh deployment pointing at the wrong URL) they fall back to one "
            "alert without a site.",
        ),
        alert(
            "ChatExporterAbsent",
            f"{sites_seen}\n  and on (job) {absent}\nor on (job)\n  {absent}",
            settings.exporter_absent_for,
            "critical",
            summary="Prometheus has no target for the chat exporter.",
            description=(
                "Prometheus has no scrape target in the job {{ $labels.job }}; " + _SITES + lookback
            ),
            data=False,
        ),
        alert(
            "ChatDatabaseDown",
            _down(settings, "chat_up"),
            settings.database_down_for,
            "critical",
            summary="The chat exporter cannot read the chat database.",
            description=(
                "The chat exporter {{ $labels.instance }} cannot read the chat database; "
                + _SITES
                + " on it"
                + lookback
            ),
            data=False,
        ),
        alert(
            "ChatResponseTimeExceeded",
            response_time,
            settings.response_time_for,
            "warning",
            summary="Visitors have waited too long for a reply.",
            description=response_time_description + ": {{ $value | humanize }}.",
        ),
        alert(
            "ChatResponseTimeExceeded",
            response_time,
            settings.response_time_critical_for,
            "critical",
            summary="Visitors have waited too long for a reply.",
            description=(
                response_time_description
                + f", for {in_words(settings.response_time_critical_for)} now: "
                + "{{ $value | humanize }}."
            ),
        ),
        alert(
            "ChatHandlingDurationExceeded",
            # Per agent; per site where the exporter publishes no per-agent figures
            # (privacy.per_agent: false), so that the signal still reaches someone.
            series("chat_agent_signals", 'signal="handling_duration"')
            + " > 0\nor (\n"
            + _both(
                series("chat_conversations_signaled", 'signal="handling_duration"') + " > 0",
                "unless",
                series("chat_agent_signals"),
            )
            + "\n)",
            settings.handling_duration_for,
            "warning",
            summary="Conversations last longer than the handling threshold.",
            description=(
                "Conversations {{ if $labels.agent }}of agent {{ $labels.agent }} {{ end }}"
                "on site {{ $labels.site }} in progress for longer than the handling-duration "
                "threshold: {{ $value | humanize }}."
            ),
        ),
        alert(
            "ChatNoAgentAvailable",
            _both(waiting, "and", series("chat_agents", 'status="available"') + " == 0"),
            settings.no_agent_available_for,
            "critical",
            summary="Visitors are waiting and no agent is available.",
            description=(
                "Visitors waiting on site {{ $labels.site }} while none of its agents is "
                "available: {{ $value | humanize }}."
            ),
        ),
        alert(
            "ChatSlotsExhausted",
            _both(waiting, "and", f"{free_slots} == 0"),
            settings.slots_exhausted_for,
            "warning",
            summary="Visitors are waiting and every conversation slot is taken.",
            description=(
                "Visitors waiting on site {{ $labels.site }} while every slot of its available "
                "agents and bots is taken: {{ $value | humanize }}."
            ),
        ),
        alert(
            "ChatSlotsRunningOut",
            _both(f"{free_slots} > 0", "and", f"{forecast_free} <= 0"),
            settings.slots_running_out_for,
            "info",
            summary=f"Free conversation slots are forecast to run out within {ahead}.",
            description=(
                "Free conversation slots on site {{ $labels.site }}: {{ $value | humanize }}; "
                f"at the trend of the last {ahead} none will be left within {ahead}."
            ),
        ),
        alert(
            "ChatSatisfactionPoor",
            _both(
                f"{series('site:chat_satisfaction_score:avg_today')} < {poor}",
                "and",
                f"sum without (criterion, rating) ({series('chat_satisfaction_ratings_today')}) "
                f">= {settings.satisfaction_minimum_ratings}",
            ),
            settings.satisfaction_poor_for,
            "warning",
            summary="The average satisfaction of the day is poor.",
            description=(
                "The average satisfaction score of the day on site {{ $labels.site }} is "
                '{{ printf "%.2f" $value }} out of 5, '
                f"below {poor}."
            ),
        ),
        alert(
            "ChatServiceLevelLow",
            _both(
                _both(
                    series("site:chat_service_level:ratio_last_hour"),
                    "<",
                    series("site:chat_service_level_objective:ratio"),
                ),
                "and",
                f"{hour['answered']} + {hour['abandoned']} >= {minimum}",
            ),
            settings.service_level_low_for,
            "warning",
            summary="The service level of the last hour is below the site's objective.",
            description=(
                "On site {{ $labels.site }}, {{ $value | humanizePercentage }} of the "
                "conversations answered or abandoned in the last hour were first answered "
                "within the target, below the site's objective of {{ with printf "
                '"site:chat_service_level_objective:ratio{job=%q,instance=%q,site=%q}" '
                "$labels.job $labels.instance $labels.site | query }}{{ . | first | value "
                "| humanizePercentage }}{{ end }}."
            ),
            comment="The service alerts judge the last hour, which moves slowly as "
            f"conversations enter and leave it; {in_words(settings.service_level_low_for)} "
            f"below the line is a trend rather than one unlucky visitor, and {minimum} "
            "conversations in the hour keep a quiet site's few from deciding it.",
        ),
        alert(
            "ChatAbandonRateHigh",
            _both(
                f"{series('site:chat_abandon:ratio_last_hour')} > {abandon}",
                "and",
                f"{hour['ended']} >= {minimum}",
            ),
            settings.abandon_rate_high_for,
            "warning",
            summary="Too many conversations of the last hour were abandoned.",
            description=(
                "On site {{ $labels.site }}, {{ $value | humanizePercentage }} of the "
                "conversations ended in the last hour were abandoned with no reply, "
                f"above {settings.abandon_rate_high:.0%}."
            ),
        ),
    )
    return Group(NAME, COMMENT, rules)
