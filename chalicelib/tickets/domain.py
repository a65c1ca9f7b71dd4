"""The ticket lifecycle as pure rules: who may do what, from which state, with what effect.

(Some 400 lines: the whole state machine — actors, guards and effects of every action — reads best in
one place.)

Nothing here does I/O; ``now`` is passed in. The service turns a :class:`Decision` into one
conditional write plus its event item.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from chalicelib.core.clock import from_rfc3339, to_rfc3339
from chalicelib.core.errors import ConflictError, ForbiddenError, ValidationFailedError
from chalicelib.core.permissions import Role


class Status(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_ON_RESIDENT = "waiting_on_resident"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    GRAB = "grab"
    RETURN = "return"
    START = "start"
    ARRIVE = "arrive"
    WAIT_ON_RESIDENT = "wait_on_resident"
    RESUME = "resume"
    QUOTE = "quote"
    APPROVE_QUOTE = "approve_quote"
    DECLINE_QUOTE = "decline_quote"
    RESOLVE = "resolve"
    CLOSE = "close"
    CONFIRM = "confirm"
    REOPEN = "reopen"
    CANCEL = "cancel"
    MERGE = "merge"
    RATE = "rate"
    RETURN_VISIT = "return_visit"
    AUTO_CLOSE = "auto_close"


OPEN = frozenset({Status.NEW, Status.ACKNOWLEDGED, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING_ON_RESIDENT})
WORKING = frozenset({Status.ACKNOWLEDGED, Status.ASSIGNED, Status.IN_PROGRESS})
BEFORE_WORK = frozenset({Status.NEW, Status.ACKNOWLEDGED, Status.ASSIGNED})


def bucket(status: Status) -> str:
    """Queue bucket: open, resolved, closed or cancelled."""
    return "open" if status in OPEN else status.value


def load_owner(status: Status, assignee_id: str | None) -> str | None:
    """Whose open load (the per-staff count the assign picker shows) a ticket counts in: its assignee's while it is
    open, nobody's once it is resolved, closed, cancelled or merged, or while nobody has it.

    Example
    -------
    >>> load_owner(Status.ASSIGNED, "usr_1"), load_owner(Status.WAITING_ON_RESIDENT, "usr_1")
    ('usr_1', 'usr_1')
    >>> load_owner(Status.RESOLVED, "usr_1"), load_owner(Status.ACKNOWLEDGED, None)
    (None, None)
    """
    return assignee_id if status in OPEN else None


DISPATCHERS = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT})
HANDLERS = DISPATCHERS | {Role.BUTLER}
FIELD = frozenset({Role.TECHNICIAN, Role.BUTLER})
ALL_STAFF = HANDLERS | FIELD
SUPERVISORS = frozenset({Role.ADMIN, Role.SUPERVISOR})

# Who may take each action. "resident" means the ticket's own resident; "api_key" an integration;
# "system" scheduled jobs. Field staff (technicians) act only on tickets assigned to them.
ACTION_ACTORS: dict[Action, frozenset[Any]] = {
    Action.ACKNOWLEDGE: HANDLERS | {"api_key"},
    Action.ASSIGN: DISPATCHERS | {"api_key"},
    Action.GRAB: FIELD,
    Action.RETURN: FIELD | SUPERVISORS,
    Action.START: ALL_STAFF,
    Action.ARRIVE: ALL_STAFF,
    Action.WAIT_ON_RESIDENT: ALL_STAFF,
    Action.RESUME: ALL_STAFF | {"resident"},
    Action.QUOTE: ALL_STAFF,
    Action.APPROVE_QUOTE: frozenset({"resident"}),
    Action.DECLINE_QUOTE: frozenset({"resident"}),
    Action.RESOLVE: ALL_STAFF | {"api_key"},
    Action.CLOSE: DISPATCHERS,
    Action.CONFIRM: frozenset({"resident"}),
    Action.REOPEN: DISPATCHERS | {"resident"},
    Action.CANCEL: DISPATCHERS | {"resident"},
    Action.MERGE: DISPATCHERS,
    Action.RATE: frozenset({"resident"}),
    Action.RETURN_VISIT: HANDLERS,
    Action.AUTO_CLOSE: frozenset({"system"}),
}
ASSIGNEE_ONLY_FOR_FIELD = frozenset({Action.START, Action.ARRIVE, Action.RETURN, Action.RESOLVE,
                                     Action.WAIT_ON_RESIDENT, Action.RESUME, Action.QUOTE})

EVENT_TYPES = {
    Action.ACKNOWLEDGE: "ticket.acknowledged", Action.ASSIGN: "ticket.assigned", Action.GRAB: "ticket.assigned",
    Action.RESOLVE: "ticket.resolved", Action.CLOSE: "ticket.closed", Action.CONFIRM: "ticket.closed",
    Action.AUTO_CLOSE: "ticket.closed", Action.REOPEN: "ticket.reopened", Action.RATE: "ticket.rated",
    Action.CANCEL: "ticket.cancelled", Action.MERGE: "ticket.merged", Action.QUOTE: "ticket.quoted",
    Action.RETURN_VISIT: "ticket.return_visited",
}
INTERNAL_ACTIONS = frozenset({Action.RETURN, Action.MERGE, Action.RETURN_VISIT})


@dataclass(frozen=True)
class Actor:
    kind: str  # staff | resident | api_key | system
    id: str
    role: Role | None = None
    acts_for: str | None = None  # an API key's named staff member

    @property
    def human(self) -> bool:
        """A staff member, or an API key acting for one: only they make a first response."""
        return self.kind == "staff" or (self.kind == "api_key" and bool(self.acts_for))

    @property
    def key(self) -> Any:
        return self.role if self.kind == "staff" else self.kind


@dataclass(frozen=True)
class KindRules:
    paid: bool = False
    required_to_resolve: tuple[str, ...] = ("note",)


@dataclass(frozen=True)
class Policy:
    reopen_window_days: int = 7
    rating_window_days: int = 7
    low_rating_action: str = "flag"


@dataclass(frozen=True)
class TicketState:
    status: Status
    resident_id: str | None
    kind: str = "repair"
    assignee_id: str | None = None
    grab_team: str | None = None
    previous_status: Status | None = None
    acknowledged_at: str | None = None
    arrived_at: str | None = None
    resolved_at: str | None = None
    closed_at: str | None = None
    quote: dict[str, Any] | None = None
    rating: dict[str, Any] | None = None
    reopen_count: int = 0
    flagged: dict[str, Any] | None = None


@dataclass(frozen=True)
class Decision:
    action: Action
    status: Status
    changes: dict[str, Any]
    event_type: str
    visibility: str = "public"
    data: dict[str, Any] = field(default_factory=dict)


class IllegalTransitionError(ConflictError):
    code = "illegal_transition"

    def __init__(self, action: Action, status: Status, allowed: list[str]) -> None:
        super().__init__(f"'{action.value}' is not possible while the ticket is {status.value}.",
                         details={"status": status.value, "allowed_actions": allowed})


def _require(params: dict[str, Any], name: str, message: str) -> Any:
    value = params.get(name)
    if value in (None, "", []):
        raise ValidationFailedError(details=[{"field": name, "type": "missing", "message": message}])
    return value


def may_act(state: TicketState, action: Action, actor: Actor) -> bool:
    """Role table plus ownership: residents act on their own tickets, technicians on their own jobs."""
    if actor.key not in ACTION_ACTORS[action]:
        return False
    if actor.kind == "resident":
        return state.resident_id == actor.id
    if actor.role == Role.TECHNICIAN and action in ASSIGNEE_ONLY_FOR_FIELD:
        return state.assignee_id == actor.id
    if action == Action.RETURN and actor.role in FIELD:
        return state.assignee_id == actor.id
    return True


def _state_allows(state: TicketState, action: Action, actor: Actor, now: datetime, policy: Policy) -> bool:
    status = state.status
    quote_pending = bool(state.quote and state.quote.get("status") == "pending")
    match action:
        case Action.ACKNOWLEDGE:
            return status in OPEN and state.acknowledged_at is None
        case Action.ASSIGN:
            return status in BEFORE_WORK | {Status.IN_PROGRESS}
        case Action.GRAB:
            return status in (Status.NEW, Status.ACKNOWLEDGED) and state.grab_team is not None \
                and state.assignee_id is None
        case Action.RETURN:
            return status == Status.ASSIGNED and state.assignee_id is not None
        case Action.START:
            return status == Status.ASSIGNED and not quote_pending
        case Action.ARRIVE:
            return status in (Status.ASSIGNED, Status.IN_PROGRESS) and state.arrived_at is None and not quote_pending
        case Action.WAIT_ON_RESIDENT:
            return status in WORKING
        case Action.RESUME:
            return status == Status.WAITING_ON_RESIDENT and not quote_pending
        case Action.QUOTE:
            return status in (Status.ACKNOWLEDGED, Status.ASSIGNED) and not quote_pending and not (
                state.quote and state.quote.get("status") == "approved")
        case Action.APPROVE_QUOTE | Action.DECLINE_QUOTE:
            return status == Status.WAITING_ON_RESIDENT and quote_pending
        case Action.RESOLVE:
            return status in WORKING | {Status.NEW}
        case Action.CLOSE | Action.CONFIRM | Action.AUTO_CLOSE:
            return status == Status.RESOLVED
        case Action.REOPEN:
            if status == Status.RESOLVED:
                return True
            return status == Status.CLOSED and state.closed_at is not None and \
                now - from_rfc3339(state.closed_at) <= timedelta(days=policy.reopen_window_days)
        case Action.CANCEL:
            return status in (BEFORE_WORK if actor.kind == "resident" else OPEN)
        case Action.MERGE:
            return status in OPEN
        case Action.RATE:
            return status in (Status.RESOLVED, Status.CLOSED) and state.rating is None \
                and state.resolved_at is not None \
                and now - from_rfc3339(state.resolved_at) <= timedelta(days=policy.rating_window_days)
        case Action.RETURN_VISIT:
            return status in (Status.RESOLVED, Status.CLOSED)
    return False


def needs_follow_up(flagged: dict[str, Any] | None) -> bool:
    """A flag (a low rating) waits for a return visit (回访) until one is recorded; the flag itself stays as history.

    Example
    -------
    >>> needs_follow_up({"reason": "low_rating", "at": "2026-11-27T02:00:00.000Z"})
    True
    >>> needs_follow_up({"reason": "low_rating", "at": "2026-11-27T02:00:00.000Z",
    ...                  "followed_up_at": "2026-11-28T01:00:00.000Z"})
    False
    """
    return bool(flagged) and not (flagged or {}).get("followed_up_at")


def reply_resumes(state: TicketState, actor: Actor, now: datetime) -> bool:
    """Whether a public reply by ``actor`` is also the answer a waiting ticket waits for: the ticket's own resident
    replying while it waits on them resumes it (exactly as :attr:`Action.RESUME` would), except while a quote is
    pending — that wait ends only by approving or declining the quote.

    Example
    -------
    >>> waiting = TicketState(Status.WAITING_ON_RESIDENT, "res_1", previous_status=Status.ASSIGNED)
    >>> now, mine, neighbour = datetime(2026, 11, 27), Actor("resident", "res_1"), Actor("resident", "res_2")
    >>> reply_resumes(waiting, mine, now), reply_resumes(waiting, neighbour, now)
    (True, False)
    >>> reply_resumes(waiting, Actor("staff", "usr_1", Role.AGENT), now)
    False
    >>> reply_resumes(replace(waiting, quote={"status": "pending"}), mine, now)
    False
    """
    return actor.kind == "resident" and may_act(state, Action.RESUME, actor) \
        and _state_allows(state, Action.RESUME, actor, now, Policy())


def allowed_actions(state: TicketState, actor: Actor, now: datetime, policy: Policy = Policy()) -> list[str]:
    return [a.value for a in Action
            if may_act(state, a, actor) and _state_allows(state, a, actor, now, policy)]


def decide(state: TicketState, action: Action, actor: Actor, params: dict[str, Any], now: datetime,
           kind: KindRules = KindRules(), policy: Policy = Policy()) -> Decision:
    """What taking ``action`` does to a ticket, or why it can't."""
    if not may_act(state, action, actor):
        raise ForbiddenError("Your role cannot do this on this ticket.")
    if not _state_allows(state, action, actor, now, policy):
        raise IllegalTransitionError(action, state.status, allowed_actions(state, actor, now, policy))
    stamp = to_rfc3339(now)
    changes: dict[str, Any] = {}
    status = state.status
    data: dict[str, Any] = {}
    first_response = {"acknowledged_at": stamp} if state.acknowledged_at is None and actor.human else {}

    match action:
        case Action.ACKNOWLEDGE:
            status = Status.ACKNOWLEDGED if state.status == Status.NEW else state.status
            changes = {**first_response}  # an integration's acknowledgement is not a first response
        case Action.ASSIGN:
            assignee = _require(params, "assignee_id", "Who should take the ticket?")
            if assignee == state.assignee_id:
                raise ConflictError("The ticket is already assigned to this person.", code="already_assigned")
            status = Status.ASSIGNED if state.status in BEFORE_WORK else state.status
            changes = {"assignee_id": assignee, "grab_team": None, **first_response}
            data = {"from": state.assignee_id, "to": assignee, "reason": params.get("reason"),
                    "transfer": state.assignee_id is not None}
        case Action.GRAB:
            status, changes = Status.ASSIGNED, {"assignee_id": actor.id, "grab_team": None}
            data = {"to": actor.id, "team": state.grab_team}
        case Action.RETURN:
            reason = _require(params, "reason", "Say why the job is returned (退单).")
            status, changes = Status.ACKNOWLEDGED, {"assignee_id": None}
            data = {"from": state.assignee_id, "reason": reason}
        case Action.START:
            status = Status.IN_PROGRESS
        case Action.ARRIVE:
            status, changes = Status.IN_PROGRESS, {"arrived_at": stamp}
        case Action.WAIT_ON_RESIDENT:
            reason = _require(params, "reason", "Say what the resident needs to do.")
            status, changes = Status.WAITING_ON_RESIDENT, {"previous_status": state.status.value}
            data = {"reason": reason}
        case Action.RESUME:
            status, changes = state.previous_status or Status.ACKNOWLEDGED, {"previous_status": None}
        case Action.QUOTE:
            price = _require(params, "price", "Quote a price (yuan).")
            quote = {"price": str(price), "currency": "CNY", "eta": params.get("eta"), "note": params.get("note"),
                     "status": "pending", "quoted_at": stamp, "quoted_by": actor.id}
            status = Status.WAITING_ON_RESIDENT
            changes = {"quote": quote, "previous_status": state.status.value, **first_response}
            data = {"price": quote["price"], "eta": quote["eta"]}
        case Action.APPROVE_QUOTE:
            status = state.previous_status or Status.ACKNOWLEDGED
            changes = {"quote": {**(state.quote or {}), "status": "approved", "decided_at": stamp},
                       "previous_status": None}
        case Action.DECLINE_QUOTE:
            status = Status.CANCELLED
            changes = {"quote": {**(state.quote or {}), "status": "declined", "decided_at": stamp},
                       "previous_status": None, "cancelled_at": stamp, "cancel_reason": "quote_declined"}
            data = {"reason": params.get("reason")}
        case Action.RESOLVE:
            note, photos = params.get("note"), params.get("photos") or []
            given = {"note": bool(note), "photo": bool(photos)}
            missing = [f for f in kind.required_to_resolve if not given.get(f)]
            if missing:
                raise ValidationFailedError(details=[{"field": f, "type": "required_to_resolve",
                                                      "message": f"This kind needs a {f} to resolve."}
                                                     for f in missing])
            status = Status.RESOLVED
            changes = {"resolved_at": stamp, "resolution": {"note": note, "photos": photos, "by": actor.id},
                       **first_response}
        case Action.CLOSE | Action.AUTO_CLOSE:
            status, changes = Status.CLOSED, {"closed_at": stamp}
            data = {"how": "auto" if action == Action.AUTO_CLOSE else "staff"}
        case Action.CONFIRM:
            status, changes = Status.CLOSED, {"closed_at": stamp, "confirmed_at": stamp}
            data = {"how": "resident_confirmed"}
        case Action.REOPEN:
            reason = _require(params, "reason", "Say why the ticket is reopened.")
            status = Status.ASSIGNED if state.assignee_id else Status.ACKNOWLEDGED
            changes = {"reopen_count": state.reopen_count + 1, "resolved_at": None, "closed_at": None,
                       "confirmed_at": None, "resolution": None}
            data = {"reason": reason}
        case Action.CANCEL:
            status = Status.CANCELLED
            changes = {"cancelled_at": stamp, "cancel_reason": params.get("reason") or "cancelled"}
        case Action.MERGE:
            into = _require(params, "into_ticket_id", "Which ticket does this one duplicate?")
            status, changes = Status.CLOSED, {"closed_at": stamp, "merged_into": into}
            data = {"into": into}
        case Action.RATE:
            score = params.get("score")
            if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
                raise ValidationFailedError(details=[{"field": "score", "type": "out_of_range",
                                                      "message": "Rate from 1 to 5."}])
            rating = {"score": score, "tags": list(params.get("tags") or []), "comment": params.get("comment"),
                      "rated_at": stamp}
            changes = {"rating": rating}
            if state.status == Status.RESOLVED:
                status = Status.CLOSED
                changes.update(closed_at=stamp, confirmed_at=stamp)
            data = {"score": score}
            if score <= 2:
                if policy.low_rating_action == "reopen":
                    status = Status.ASSIGNED if state.assignee_id else Status.ACKNOWLEDGED
                    changes.update(reopen_count=state.reopen_count + 1, closed_at=None, confirmed_at=None,
                                   resolved_at=None, resolution=None)
                    data["reopened"] = True
                else:
                    changes["flagged"] = {"reason": "low_rating", "at": stamp}
                    data["flagged"] = True
        case Action.RETURN_VISIT:
            visit = {"note": _require(params, "note", "Record what the resident said."),
                     "outcome": params.get("outcome") or "completed", "by": actor.id, "at": stamp}
            changes = {"return_visit": visit}
            data = {"outcome": visit["outcome"]}
            # the follow-up a flag asks for is done — unless nobody could be reached: then it stays on the list
            if needs_follow_up(state.flagged) and visit["outcome"] != "unreachable":
                changes["flagged"] = {**(state.flagged or {}), "followed_up_at": stamp}
                data["followed_up"] = True
    event_type = EVENT_TYPES.get(action, "ticket.status_changed")
    visibility = "internal" if action in INTERNAL_ACTIONS else "public"
    return Decision(action, status, changes, event_type, visibility, {"action": action.value, **data})


def apply(state: TicketState, decision: Decision) -> TicketState:
    """The state after a decision (used by tests and the property-based model)."""
    fields = {k: v for k, v in decision.changes.items() if k in TicketState.__dataclass_fields__}
    if "previous_status" in fields and fields["previous_status"] is not None:
        fields["previous_status"] = Status(fields["previous_status"])
    return replace(state, status=decision.status, **fields)
