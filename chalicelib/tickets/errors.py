"""Errors of the ticket context: what intake, transitions and the SLA checks can run into."""
from __future__ import annotations

from chalicelib.core.errors import ConflictError, RateLimitedError, ValidationFailedError


def invalid_field(field: str, type_: str, message: str) -> ValidationFailedError:
    return ValidationFailedError(details=[{"field": field, "type": type_, "message": message}])


class IdempotentReplayError(ConflictError):
    """The Idempotency-Key was used before: answer with the first request's ticket."""

    code = "idempotent_replay"


class NumberTakenError(ConflictError):
    """The short ticket number drawn is in use: draw another."""

    code = "number_taken"


class DuplicateSeenError(ConflictError):
    """Another ticket for the same place, kind and category was filed within the duplicate window."""

    code = "duplicate_seen"


class SlaMarkRecordedError(ConflictError):
    """This SLA mark of this clock cycle is recorded already (exactly once)."""

    code = "sla_mark_recorded"


class LoadOutOfStepError(ConflictError):
    """A ticket counted in someone's open load found their counter at zero: the counter was changed by hand."""

    code = "load_out_of_step"
    default_message = "The assignee's open-ticket count is out of step with their tickets; ask support to recount."


class DailyTicketLimitError(RateLimitedError):
    def __init__(self) -> None:
        super().__init__("You have reported a lot today; call the service desk if urgent.", code="daily_ticket_limit",
                         retry_after=3600)
