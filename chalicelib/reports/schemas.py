"""Models of the report routes."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from chalicelib.core.schema import Request, Schema


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
    intake_by_kind: dict[str, int] = Field(description="Tickets filed per kind (empty for one staff member's figures)")
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
    overdue_at_end: int | None = Field(None, description="Of those, the ones past their resolution deadline")


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


# --- property-fee rates and satisfaction ↔ renewal -----------------------------------------------------------------
Month = Annotated[str, StringConstraints(pattern=r"^20\d{2}-(0[1-9]|1[0-2])$")]  # 2000–2099, as the days
Rate = Annotated[float, Field(ge=0, le=1)]


class FeeRateIn(Request):
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["collection_rate"], "properties": {"collection_rate": {"type": "number"}}},
        {"required": ["renewal_rate"], "properties": {"renewal_rate": {"type": "number"}}}]})

    community_id: str = Field(min_length=1, max_length=40)
    month: Month = Field(description="YYYY-MM")
    collection_rate: Rate | None = Field(None, description="Share of the month's property fee collected (收缴率), 0–1")
    renewal_rate: Rate | None = Field(None, description="Share of owners who renewed (续费率), 0–1")

    @model_validator(mode="after")
    def _one_rate(self) -> FeeRateIn:
        if self.collection_rate is None and self.renewal_rate is None:
            raise ValueError("give collection_rate or renewal_rate")
        return self


class FeeRatesIn(Request):
    """Rates per community and month; a month recorded again is replaced (idempotent)."""

    model_config = ConfigDict(json_schema_extra={"description": "At least one of collection_rate and renewal_rate "
                                                                "per item"})

    items: list[FeeRateIn] = Field(min_length=1, max_length=500)


class FeeRateOut(Schema):
    community_id: str
    month: str
    collection_rate: float | None
    renewal_rate: float | None
    updated_at: str
    updated_by: str


class FeeRatesRecordedOut(Schema):
    recorded: int


class FeeImportError(Schema):
    line: int
    field: str
    message: str


class FeeImportOut(Schema):
    recorded: int
    errors: list[FeeImportError]


class MonthRangeQuery(Schema):
    from_month: Month = Field(description="First month (YYYY-MM)")
    to_month: Month = Field(description="Last month, included (at most 12 months)")


class FeeRatePage(Schema):
    items: list[FeeRateOut]


class SatisfactionRow(Schema):
    community_id: str
    name: str
    month: str
    ratings: int
    csat: float | None
    mean_rating: float | None
    collection_rate: float | None
    renewal_rate: float | None


class Correlation(Schema):
    pairs: int = Field(description="Community-months with both a CSAT and the rate")
    r: float | None = Field(description="Pearson's r (null below 3 pairs)")
    slope: float | None = Field(description="The trend line: rate = slope × CSAT + intercept")
    intercept: float | None


class RenewalRisk(Schema):
    community_id: str
    name: str
    previous_csat: float | None
    last_csat: float | None
    change: float = Field(description="Relative change of CSAT, last quarter against the one before (≤ -0.10)")


class RiskQuarters(Schema):
    previous: list[str]
    last: list[str]


class SatisfactionRenewalOut(Schema):
    from_month: str
    to_month: str
    rows: list[SatisfactionRow]
    correlation: dict[str, Correlation] = Field(description="collection_rate and renewal_rate against CSAT")
    risks: list[RenewalRisk] = Field(description="Communities whose CSAT fell 10 % or more over the last quarter")
    risk_quarters: RiskQuarters


# --- exports -------------------------------------------------------------------------------------------------------
class ExportIn(Request):
    from_: dt.date = Field(alias="from", description="First day of the tickets' creation (the tenant's time zone)")
    to: dt.date = Field(description="Last day, included (at most 366 days)")
    format: Literal["csv", "xlsx"] = "xlsx"
    community_id: str | None = Field(None, max_length=40)
    kind: str | None = Field(None, max_length=32)


class ExportOut(Schema):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    format: Literal["csv", "xlsx"]
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    community_id: str | None
    kind: str | None
    rows: int | None = Field(description="Tickets in the file, once done")
    error: str | None
    download_url: str | None = Field(description="Once done: a link valid for download_expires_in seconds (GET the "
                                                  "job again for a fresh one); phones masked unless you may see them")
    download_expires_in: int | None
    created_at: str
    updated_at: str
