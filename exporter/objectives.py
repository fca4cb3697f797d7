"""The value of an objective's metric from the figures of its scope (docs/metrics.md)."""

from exporter.snapshot import PRESENCE, SALES, Day

NEEDS = {
    "transactions": SALES,
    "turnover": SALES,
    "conversion_rate": SALES,
    "conversations_per_hour": PRESENCE,
}
"""The capability a metric's value needs; without it the value is undefined, not 0."""


def objective_value(
    metric: str,
    day: Day,
    *,
    agent_conversations: int,
    presence_seconds: float,
    currency: str | None,
    capabilities: frozenset[str],
) -> float | None:
    """Today's value of ``metric``, or None when it is undefined (a ratio over zero, an
    unknown metric, turnover without a currency over several currencies, or a figure the
    source's schema does not hold).

    Conversations per hour are those of agents over their presence, so that bots and
    unanswered visitors do not count as a site's productivity. The service level counts the
    abandoned conversations as missed, so that a queue nobody answers cannot look healthy.
    """
    if metric in NEEDS and NEEDS[metric] not in capabilities:
        return None
    match metric:
        case "conversations":
            return float(day.conversations)
        case "transactions":
            return float(day.transactions)
        case "turnover":
            if currency is not None:
                return day.turnover.get(currency, 0.0)
            if len(day.turnover) > 1:
                return None
            return next(iter(day.turnover.values()), 0.0)
        case "conversion_rate":
            return day.converted / day.conversations if day.conversations else None
        case "satisfaction":
            count = sum(ratings.rated for ratings in day.satisfaction.values())
            score = sum(ratings.score for ratings in day.satisfaction.values())
            return score / count if count else None
        case "handling_time":
            return day.handling_seconds / day.ended if day.ended else None
        case "conversations_per_hour":
            return agent_conversations * 3600 / presence_seconds if presence_seconds else None
        case "service_level":
            offered = day.answered + day.abandoned
            return day.answered_in_target / offered if offered else None
        case "first_response_time":
            return day.first_response_seconds / day.answered if day.answered else None
        case "abandon_rate":
            return day.abandoned / day.ended if day.ended else None
    return None
