"""Models of the report routes."""
from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from chalicelib.core.schema import Schema


class RangeQuery(Schema):
    """A range of the tenant's calendar days, both ends included (at most 366 days)."""

    from_: dt.date = Field(alias="from", description="First day (YYYY-MM-DD, the tenant's time zone)")
    to: dt.date = Field(description="Last day, included")


class FiguresQuery(RangeQuery):
    granularity: Literal["day", "week", "month"] = "day"
    community_id: str | None = Field(None, max_length=40, description="One community's figures only")
    kind: str | None = Field(None, max_length=32, description="One ticket kind's figures only")
    staff_id: str | None = Field(None, max_length=40, description="One staff member's work (their rollups)")


class Durations(Schema):
    count: int
    median_seconds: float | None = Field(description="Exact; the mean of the two middle values for an even count")
    p90_seconds: int | None = Field(description="Nearest rank")


class ClockCompliance(Schema):
    met: int
    breached: int
    rate: float | None = Field(description="met ÷ (met + breached); null when neither happened")


class Complaints(Schema):
    created: int
    closed: int
    closure_rate: float | None
    target: float


class Completeness(Schema):
    closed: int
    complete: int
    rate: float | None
    target: float


class Satisfaction(Schema):
    ratings: int
    mean_rating: float | None
    csat: float | None = Field(description="Ratings of 4–5 ÷ all ratings")
    return_visit_rate: float | None = Field(description="Closed tickets with a rating or a return visit ÷ closed")


class Figures(Schema):
    created: int
    intake_by_channel: dict[str, int]
    first_response: Durations
    sla_compliance: dict[str, ClockCompliance] = Field(description="Per clock (first_response always present)")
    complaints: Complaints
    completeness: Completeness
    satisfaction: Satisfaction
    resolution: Durations
    reopen_rate: float | None = Field(description="Reopens ÷ resolutions")
    reopened: int


class PeriodFigures(Figures):
    start: dt.date
    end: dt.date
    backlog_at_end: int | None = Field(None, description="Tickets open at the end of the period (not per staff; "
                                                         "null for a period ending after today)")


class TotalFigures(Figures):
    resolution_by_kind: dict[str, Durations]


class FiguresOut(Schema):
    from_: dt.date = Field(alias="from", serialization_alias="from")
    to: dt.date
    granularity: Literal["day", "week", "month"]
    community_id: str | None
    kind: str | None
    staff_id: str | None
    periods: list[PeriodFigures]
    total: TotalFigures
    items_read: int = Field(description="Rollup items read to answer (bounded by days × communities × kinds, "
                                        "never by the number of tickets)")


class StaffRow(Schema):
    staff_id: str
    assigned: int
    resolved: int
    first_responses: int
    first_response_median_seconds: float | None
    resolution_median_seconds: float | None
    ratings: int
    csat: float | None
    reopened: int
    breaches: int
    open_now: int


class StaffReportOut(Schema):
    from_: dt.date = Field(alias="from", serialization_alias="from")
    to: dt.date
    items: list[StaffRow]


class CommunityRow(Schema):
    community_id: str
    name: str
    rank: int
    score: float | None = Field(description="0–100: first-response compliance, complaint closure and CSAT 30 % "
                                            "each, few complaints per 100 units 10 %")
    units: int
    created: int
    first_response_compliance: float | None
    complaint_closure_rate: float | None
    csat: float | None
    complaints: int
    complaints_per_100_units: float | None


class CommunityRankingOut(Schema):
    from_: dt.date = Field(alias="from", serialization_alias="from")
    to: dt.date
    items: list[CommunityRow] = Field(description="Best first (红榜); the last are the 黑榜")
