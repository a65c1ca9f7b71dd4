"""Ticket routes for staff and integrations (/v1/tickets) and for residents (/v1/me/tickets)."""
from __future__ import annotations

from chalicelib import bootstrap
from chalicelib.core.clock import utcnow
from chalicelib.core.errors import NotFoundError
from chalicelib.core.http import Call, api
from chalicelib.core.pagination import ListQuery
from chalicelib.core.permissions import Permission as P
from chalicelib.tickets.domain import Action
from chalicelib.tickets.schemas import (
    ActionIn,
    AttachmentIn,
    AttachmentUploadOut,
    CommentIn,
    CommentList,
    CommentOut,
    EventList,
    RatingIn,
    ReasonIn,
    ResidentCommentIn,
    StaffTicketIn,
    TicketIn,
    TicketOut,
    TicketPage,
    TicketPatch,
    TicketQuery,
)

bp = api.blueprint(__name__)
STAFF, RESIDENT = ("tickets",), ("my-tickets",)
STAFF_ACTIONS = frozenset(Action) - {Action.AUTO_CLOSE}


def service():  # noqa: ANN201
    return bootstrap.ticket_service()


def _action(name: str) -> Action:
    try:
        action = Action(name)
    except ValueError:
        raise NotFoundError("No such action.", code="unknown_action") from None
    if action not in STAFF_ACTIONS:
        raise NotFoundError("No such action.", code="unknown_action")
    return action


@api.route(bp, "POST", "/v1/tickets", permission=P.TICKETS_WRITE, body=StaffTicketIn, response=TicketOut,
           status=201, tags=STAFF, summary="File a ticket for a resident (phone, walk-in, API); Idempotency-Key")
def create_ticket(call: Call) -> TicketOut:
    return service().create(call.tenant, call.body, call.idempotency_key, utcnow())


@api.route(bp, "GET", "/v1/tickets", permission=P.TICKETS_READ, query=TicketQuery, response=TicketPage,
           tags=STAFF, summary="The queue: filter by bucket, status, kind, priority, community, assignee, pool, "
                               "created range; most urgent first; one query per page")
def list_tickets(call: Call) -> TicketPage:
    items, cursor = service().queue(call.tenant, call.query, utcnow())
    return TicketPage(items=items, next_cursor=cursor)


@api.route(bp, "GET", "/v1/tickets/at-risk", permission=P.TICKETS_DISPATCH, query=ListQuery, response=TicketPage,
           tags=STAFF, summary="What breaches next: open tickets with a running SLA clock, nearest deadline first")
def at_risk(call: Call) -> TicketPage:
    items, cursor = service().at_risk(call.tenant, call.query.limit, call.query.cursor, utcnow())
    return TicketPage(items=items, next_cursor=cursor)


@api.route(bp, "GET", "/v1/tickets/by-number/{number}", permission=P.TICKETS_READ, response=TicketOut, tags=STAFF,
           summary="Find a ticket by the short number a resident reads out on the phone")
def get_ticket_by_number(call: Call) -> TicketOut:
    return service().get_by_number(call.tenant, call.path["number"], utcnow())


@api.route(bp, "GET", "/v1/tickets/{ticket_id}", permission=P.TICKETS_READ, response=TicketOut, tags=STAFF,
           summary="One ticket, with the actions the caller may take now")
def get_ticket(call: Call) -> TicketOut:
    return service().get(call.tenant, call.path["ticket_id"], utcnow())


@api.route(bp, "PATCH", "/v1/tickets/{ticket_id}", permission=P.TICKETS_DISPATCH, body=TicketPatch,
           response=TicketOut, tags=STAFF,
           summary="Re-triage kind, category or priority; SLA clocks re-target (If-Match)")
def patch_ticket(call: Call) -> TicketOut:
    return service().triage(call.tenant, call.path["ticket_id"], call.body, call.if_match, utcnow())


@api.route(bp, "POST", "/v1/tickets/{ticket_id}/actions/{action}", permission=P.TICKETS_WRITE, body=ActionIn,
           response=TicketOut, tags=STAFF,
           summary="acknowledge, assign (转单), grab (抢单), return (退单), start, arrive, wait_on_resident, resume, "
                   "quote, resolve, close, reopen, cancel, merge, return_visit (回访); If-Match")
def ticket_action(call: Call) -> TicketOut:
    return service().act(call.tenant, call.path["ticket_id"], _action(call.path["action"]), call.body,
                         call.if_match, utcnow())


@api.route(bp, "POST", "/v1/tickets/{ticket_id}/comments", permission=P.TICKETS_WRITE, body=CommentIn,
           response=CommentOut, status=201, tags=STAFF, summary="Reply to the resident (public) or note (internal)")
def comment_ticket(call: Call) -> CommentOut:
    body = call.body
    return service().comment(call.tenant, call.path["ticket_id"], body.body, body.visibility, body.attachments,
                             utcnow())


@api.route(bp, "GET", "/v1/tickets/{ticket_id}/comments", permission=P.TICKETS_READ, response=CommentList,
           tags=STAFF, summary="The conversation, public and internal")
def list_comments(call: Call) -> CommentList:
    return CommentList(items=service().comments(call.tenant, call.path["ticket_id"]))


@api.route(bp, "GET", "/v1/tickets/{ticket_id}/events", permission=P.TICKETS_READ, response=EventList, tags=STAFF,
           summary="The timeline: every change with actor, time and before/after (the audit log)")
def ticket_events(call: Call) -> EventList:
    return EventList(items=service().timeline(call.tenant, call.path["ticket_id"]))


@api.route(bp, "POST", "/v1/attachments", permission=P.TICKETS_WRITE, body=AttachmentIn,
           response=AttachmentUploadOut, status=201, tags=STAFF,
           summary="A presigned upload for a photo (jpeg/png/webp/heic, ≤ 10 MB)")
def staff_attachment(call: Call) -> AttachmentUploadOut:
    return service().presign_attachment(call.tenant, call.body, utcnow())


# --- residents ----------------------------------------------------------------------------------------
@api.route(bp, "POST", "/v1/me/tickets", auth="resident", body=TicketIn, response=TicketOut, status=201,
           tags=RESIDENT, summary="Report a problem or ask for a service; Idempotency-Key")
def my_create(call: Call) -> TicketOut:
    return service().create(call.tenant, call.body, call.idempotency_key, utcnow())


@api.route(bp, "GET", "/v1/me/tickets", auth="resident", query=ListQuery, response=TicketPage, tags=RESIDENT,
           summary="My tickets, newest first")
def my_list(call: Call) -> TicketPage:
    items, cursor = service().my_tickets(call.tenant, call.query.limit, call.query.cursor, utcnow())
    return TicketPage(items=items, next_cursor=cursor)


@api.route(bp, "GET", "/v1/me/tickets/{ticket_id}", auth="resident", response=TicketOut, tags=RESIDENT,
           summary="One of my tickets")
def my_get(call: Call) -> TicketOut:
    return service().get(call.tenant, call.path["ticket_id"], utcnow())


@api.route(bp, "GET", "/v1/me/tickets/{ticket_id}/events", auth="resident", response=EventList, tags=RESIDENT,
           summary="The public timeline of my ticket")
def my_events(call: Call) -> EventList:
    return EventList(items=service().timeline(call.tenant, call.path["ticket_id"]))


@api.route(bp, "GET", "/v1/me/tickets/{ticket_id}/comments", auth="resident", response=CommentList, tags=RESIDENT,
           summary="The public conversation on my ticket")
def my_comments(call: Call) -> CommentList:
    return CommentList(items=service().comments(call.tenant, call.path["ticket_id"]))


@api.route(bp, "POST", "/v1/me/tickets/{ticket_id}/comments", auth="resident", body=ResidentCommentIn,
           response=CommentOut, status=201, tags=RESIDENT, summary="Add to the conversation")
def my_comment(call: Call) -> CommentOut:
    return service().comment(call.tenant, call.path["ticket_id"], call.body.body, "public", call.body.attachments,
                             utcnow())


def _resident_action(call: Call, action: Action, params: ActionIn) -> TicketOut:
    return service().act(call.tenant, call.path["ticket_id"], action, params, call.if_match, utcnow())


@api.route(bp, "POST", "/v1/me/tickets/{ticket_id}/confirm", auth="resident", response=TicketOut, tags=RESIDENT,
           summary="Confirm the problem is solved (closes the ticket)")
def my_confirm(call: Call) -> TicketOut:
    return _resident_action(call, Action.CONFIRM, ActionIn())


@api.route(bp, "POST", "/v1/me/tickets/{ticket_id}/rate", auth="resident", body=RatingIn, response=TicketOut,
           tags=RESIDENT, summary="Rate once, 1–5, with tags and a comment")
def my_rate(call: Call) -> TicketOut:
    return _resident_action(call, Action.RATE, ActionIn(score=call.body.score, tags=call.body.tags,
                                                        comment=call.body.comment))


@api.route(bp, "POST", "/v1/me/tickets/{ticket_id}/reopen", auth="resident", body=ReasonIn, response=TicketOut,
           tags=RESIDENT, summary="It isn't fixed: reopen")
def my_reopen(call: Call) -> TicketOut:
    return _resident_action(call, Action.REOPEN, ActionIn(reason=call.body.reason or "问题未解决"))


@api.route(bp, "POST", "/v1/me/tickets/{ticket_id}/cancel", auth="resident", body=ReasonIn, response=TicketOut,
           tags=RESIDENT, summary="Withdraw the ticket before work starts")
def my_cancel(call: Call) -> TicketOut:
    return _resident_action(call, Action.CANCEL, ActionIn(reason=call.body.reason))


@api.route(bp, "POST", "/v1/me/tickets/{ticket_id}/quote/approve", auth="resident", response=TicketOut,
           tags=RESIDENT, summary="Accept the quoted price and time")
def my_approve_quote(call: Call) -> TicketOut:
    return _resident_action(call, Action.APPROVE_QUOTE, ActionIn())


@api.route(bp, "POST", "/v1/me/tickets/{ticket_id}/quote/decline", auth="resident", body=ReasonIn,
           response=TicketOut, tags=RESIDENT, summary="Decline the quote (the ticket ends, politely)")
def my_decline_quote(call: Call) -> TicketOut:
    return _resident_action(call, Action.DECLINE_QUOTE, ActionIn(reason=call.body.reason))


@api.route(bp, "POST", "/v1/me/attachments", auth="resident", body=AttachmentIn, response=AttachmentUploadOut,
           status=201, tags=RESIDENT, summary="A presigned upload for a photo (jpeg/png/webp/heic, ≤ 10 MB)")
def my_attachment(call: Call) -> AttachmentUploadOut:
    return service().presign_attachment(call.tenant, call.body, utcnow())
