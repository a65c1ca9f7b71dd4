"""Ticket routes for staff and integrations (/v1/tickets) and for residents (/v1/me/tickets)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from chalicelib.core.clock import utcnow
from chalicelib.core.errors import NotFoundError
from chalicelib.core.http import LIST_QUERY, Call, ModelRefs, api, json_response
from chalicelib.core.permissions import Permission
from chalicelib.core.wiring import Provided

if TYPE_CHECKING:  # models and services load on first use, keeping cold starts small
    from chalicelib.tickets.contact import ResidentContact
    from chalicelib.tickets.domain import Action
    from chalicelib.tickets.intake import TicketIntake
    from chalicelib.tickets.queries import TicketQueries
    from chalicelib.tickets.replies import TicketReplies
    from chalicelib.tickets.schemas import (
        ActionIn,
        AttachmentUploadOut,
        CommentList,
        CommentOut,
        EventList,
        ResidentEventList,
        SuggestedReplyList,
        TicketOut,
        TicketPage,
    )
    from chalicelib.tickets.transitions import TicketTransitions


bp = api.blueprint(__name__)
schemas = ModelRefs("chalicelib.tickets.schemas")
STAFF, RESIDENT = ("tickets",), ("my-tickets",)
intake: Provided[TicketIntake] = Provided("ticket intake")
transitions: Provided[TicketTransitions] = Provided("ticket transitions")
queries: Provided[TicketQueries] = Provided("ticket queries")
replies: Provided[TicketReplies] = Provided("ticket replies")
contact: Provided[ResidentContact] = Provided("resident contact")


def _action(name: str) -> Action:
    from chalicelib.tickets.domain import Action

    try:
        action = Action(name)
    except ValueError:
        raise NotFoundError("No such action.", code="unknown_action") from None
    if action == Action.AUTO_CLOSE:  # the scheduler's, not a person's
        raise NotFoundError("No such action.", code="unknown_action")
    return action


@api.route(bp, "POST", "/v1/tickets", permission=Permission.TICKETS_WRITE, body=schemas.StaffTicketIn,
           response=schemas.TicketOut,
           status=201, tags=STAFF, summary="File a ticket for a resident (phone, walk-in, API); Idempotency-Key")
def create_ticket(call: Call) -> TicketOut:
    return intake().create(call.tenant, call.body, call.idempotency_key, utcnow())


@api.route(bp, "GET", "/v1/tickets", permission=Permission.TICKETS_READ, query=schemas.TicketQuery,
           response=schemas.TicketPage,
           tags=STAFF, summary="The queue: filter by bucket, status, kind, priority, community, unit, assignee "
                               "(me, none: unassigned), resident, pool, created range; most urgent first (a "
                               "resident's: newest first); one query per page. bucket=flagged is the follow-up "
                               "list: low-rated tickets awaiting a return visit (回访), newest flag first")
def list_tickets(call: Call) -> TicketPage:
    from chalicelib.tickets.schemas import TicketPage

    items, cursor = queries().queue(call.tenant, call.query, utcnow())
    return TicketPage(items=items, next_cursor=cursor)


@api.route(bp, "GET", "/v1/tickets/at-risk", permission=Permission.TICKETS_DISPATCH, query=LIST_QUERY,
           response=schemas.TicketPage,
           tags=STAFF, summary="What breaches next: open tickets with a running SLA clock, nearest deadline first")
def at_risk(call: Call) -> TicketPage:
    from chalicelib.tickets.schemas import TicketPage

    items, cursor = queries().at_risk(call.tenant, call.query.limit, call.query.cursor, utcnow())
    return TicketPage(items=items, next_cursor=cursor)


@api.route(bp, "GET", "/v1/tickets/by-number/{number}", permission=Permission.TICKETS_READ,
           response=schemas.TicketOut, tags=STAFF,
           summary="Find a ticket by the short number a resident reads out on the phone")
def get_ticket_by_number(call: Call) -> TicketOut:
    return queries().get_by_number(call.tenant, call.path["number"], utcnow())


@api.route(bp, "GET", "/v1/tickets/{ticket_id}", permission=Permission.TICKETS_READ, response=schemas.TicketOut,
           tags=STAFF,
           summary="One ticket, with the actions the caller may take now")
def get_ticket(call: Call) -> TicketOut:
    return queries().get(call.tenant, call.path["ticket_id"], utcnow())


@api.route(bp, "PATCH", "/v1/tickets/{ticket_id}", permission=Permission.TICKETS_DISPATCH, body=schemas.TicketPatch,
           response=schemas.TicketOut, tags=STAFF,
           summary="Re-triage kind, category or priority; SLA clocks re-target (If-Match)")
def patch_ticket(call: Call) -> TicketOut:
    return transitions().triage(call.tenant, call.path["ticket_id"], call.body, call.if_match, utcnow())


@api.route(bp, "POST", "/v1/tickets/{ticket_id}/actions/{action}", permission=Permission.TICKETS_WRITE,
           body=schemas.ActionIn,
           response=schemas.TicketOut, tags=STAFF,
           summary="acknowledge, assign (转单), grab (抢单), return (退单), start, arrive, wait_on_resident, resume, "
                   "quote, resolve, close, reopen, cancel, merge, return_visit (回访); If-Match")
def ticket_action(call: Call) -> TicketOut:
    return transitions().act(call.tenant, call.path["ticket_id"], _action(call.path["action"]), call.body,
                         call.if_match, utcnow())


@api.route(bp, "POST", "/v1/tickets/{ticket_id}/comments", permission=Permission.TICKETS_WRITE, body=schemas.CommentIn,
           response=schemas.CommentOut, status=201, tags=STAFF,
           summary="Reply to the resident (public) or note (internal)")
def comment_ticket(call: Call) -> CommentOut:
    body = call.body
    return transitions().comment(call.tenant, call.path["ticket_id"], body.body, body.visibility, body.attachments,
                             utcnow())


@api.route(bp, "GET", "/v1/tickets/{ticket_id}/comments", permission=Permission.TICKETS_READ,
           response=schemas.CommentList,
           tags=STAFF, summary="The conversation, public and internal")
def list_comments(call: Call) -> CommentList:
    from chalicelib.tickets.schemas import CommentList

    return CommentList(items=queries().comments(call.tenant, call.path["ticket_id"]))


@api.route(bp, "GET", "/v1/tickets/{ticket_id}/events", permission=Permission.TICKETS_READ,
           response=schemas.EventList, tags=STAFF,
           summary="The timeline: every change with actor, time and before/after (the audit log)")
def ticket_events(call: Call) -> EventList:
    from chalicelib.tickets.schemas import EventList

    return EventList(items=queries().timeline(call.tenant, call.path["ticket_id"]))


@api.route(bp, "POST", "/v1/tickets/{ticket_id}/reveal-phone", permission=Permission.TICKETS_READ,
           response=schemas.RevealedPhoneOut, tags=STAFF,
           summary="The resident's full phone number (the ticket shows it masked), for staff who manage residents and "
                   "the technician assigned to the open ticket; each reveal is recorded in the ticket's timeline "
                   "(resident.phone_revealed); at most 60 an hour per staff member")
def reveal_phone(call: Call) -> Response:
    revealed = contact().reveal_phone(call.tenant, call.path["ticket_id"], utcnow())
    return json_response(revealed.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@api.route(bp, "GET", "/v1/tickets/{ticket_id}/canned-replies", permission=Permission.TICKETS_READ,
           response=schemas.SuggestedReplyList, tags=STAFF,
           summary="The canned replies (快捷回复) for this ticket's kind and category, and the general ones, their "
                   "{placeholders} filled for this ticket and the caller: text to insert in the reply box")
def ticket_canned_replies(call: Call) -> SuggestedReplyList:
    from chalicelib.tickets.schemas import SuggestedReplyList

    return SuggestedReplyList(items=replies().suggestions(call.tenant, call.path["ticket_id"]))


@api.route(bp, "POST", "/v1/attachments", permission=Permission.TICKETS_WRITE, body=schemas.AttachmentIn,
           response=schemas.AttachmentUploadOut, status=201, tags=STAFF,
           summary="A presigned upload for a photo (jpeg/png/webp/heic, ≤ 10 MB)")
def staff_attachment(call: Call) -> AttachmentUploadOut:
    return intake().presign_attachment(call.tenant, call.body, utcnow())


# --- residents ----------------------------------------------------------------------------------------
@api.route(bp, "POST", "/v1/me/tickets", auth="resident", body=schemas.TicketIn, response=schemas.TicketOut, status=201,
           tags=RESIDENT, summary="Report a problem or ask for a service; Idempotency-Key")
def my_create(call: Call) -> TicketOut:
    return intake().create(call.tenant, call.body, call.idempotency_key, utcnow())


@api.route(bp, "GET", "/v1/me/tickets", auth="resident", query=LIST_QUERY, response=schemas.TicketPage, tags=RESIDENT,
           summary="My tickets, newest first")
def my_list(call: Call) -> TicketPage:
    from chalicelib.tickets.schemas import TicketPage

    items, cursor = queries().my_tickets(call.tenant, call.query.limit, call.query.cursor, utcnow())
    return TicketPage(items=items, next_cursor=cursor)


@api.route(bp, "GET", "/v1/me/tickets/{ticket_id}", auth="resident", response=schemas.TicketOut, tags=RESIDENT,
           summary="One of my tickets")
def my_get(call: Call) -> TicketOut:
    return queries().get(call.tenant, call.path["ticket_id"], utcnow())


@api.route(bp, "GET", "/v1/me/tickets/{ticket_id}/events", auth="resident", response=schemas.ResidentEventList,
           tags=RESIDENT, summary="What happened to my ticket, in plain words: who (as a role) did what, and when")
def my_events(call: Call) -> ResidentEventList:
    from chalicelib.tickets.schemas import ResidentEventList

    return ResidentEventList(items=queries().public_timeline(call.tenant, call.path["ticket_id"]))


@api.route(bp, "GET", "/v1/me/tickets/{ticket_id}/comments", auth="resident", response=schemas.CommentList,
           tags=RESIDENT,
           summary="The public conversation on my ticket")
def my_comments(call: Call) -> CommentList:
    from chalicelib.tickets.schemas import CommentList

    return CommentList(items=queries().comments(call.tenant, call.path["ticket_id"]))


@api.route(bp, "POST", "/v1/me/tickets/{ticket_id}/comments", auth="resident", body=schemas.ResidentCommentIn,
           response=schemas.CommentOut, status=201, tags=RESIDENT,
           summary="Add to the conversation; a reply to a ticket waiting on me resumes it (not while a quote waits)")
def my_comment(call: Call) -> CommentOut:
    return transitions().comment(call.tenant, call.path["ticket_id"], call.body.body, "public", call.body.attachments,
                             utcnow())


def _resident_action(call: Call, action: str, params: ActionIn) -> TicketOut:
    from chalicelib.tickets.domain import Action

    return transitions().act(call.tenant, call.path["ticket_id"], Action(action), params, call.if_match, utcnow())


@api.route(bp, "POST", "/v1/me/tickets/{ticket_id}/confirm", auth="resident", response=schemas.TicketOut, tags=RESIDENT,
           summary="Confirm the problem is solved (closes the ticket)")
def my_confirm(call: Call) -> TicketOut:
    from chalicelib.tickets.schemas import ActionIn

    return _resident_action(call, "confirm", ActionIn())


@api.route(bp, "POST", "/v1/me/tickets/{ticket_id}/resume", auth="resident", response=schemas.TicketOut,
           tags=RESIDENT, summary="Done what was asked, nothing to add: carry on (replying resumes too)")
def my_resume(call: Call) -> TicketOut:
    from chalicelib.tickets.schemas import ActionIn

    return _resident_action(call, "resume", ActionIn())


@api.route(bp, "POST", "/v1/me/tickets/{ticket_id}/rate", auth="resident", body=schemas.RatingIn,
           response=schemas.TicketOut,
           tags=RESIDENT, summary="Rate once, 1–5, with tags and a comment")
def my_rate(call: Call) -> TicketOut:
    from chalicelib.tickets.schemas import ActionIn

    return _resident_action(call, "rate", ActionIn(score=call.body.score, tags=call.body.tags,
                                                        comment=call.body.comment))


@api.route(bp, "POST", "/v1/me/tickets/{ticket_id}/reopen", auth="resident", body=schemas.ReasonIn,
           response=schemas.TicketOut,
           tags=RESIDENT, summary="It isn't fixed: reopen")
def my_reopen(call: Call) -> TicketOut:
    from chalicelib.tickets.schemas import ActionIn

    return _resident_action(call, "reopen", ActionIn(reason=call.body.reason or "问题未解决"))


@api.route(bp, "POST", "/v1/me/tickets/{ticket_id}/cancel", auth="resident", body=schemas.ReasonIn,
           response=schemas.TicketOut,
           tags=RESIDENT, summary="Withdraw the ticket before work starts")
def my_cancel(call: Call) -> TicketOut:
    from chalicelib.tickets.schemas import ActionIn

    return _resident_action(call, "cancel", ActionIn(reason=call.body.reason))


@api.route(bp, "POST", "/v1/me/tickets/{ticket_id}/quote/approve", auth="resident", response=schemas.TicketOut,
           tags=RESIDENT, summary="Accept the quoted price and time")
def my_approve_quote(call: Call) -> TicketOut:
    from chalicelib.tickets.schemas import ActionIn

    return _resident_action(call, "approve_quote", ActionIn())


@api.route(bp, "POST", "/v1/me/tickets/{ticket_id}/quote/decline", auth="resident", body=schemas.ReasonIn,
           response=schemas.TicketOut, tags=RESIDENT, summary="Decline the quote (the ticket ends, politely)")
def my_decline_quote(call: Call) -> TicketOut:
    from chalicelib.tickets.schemas import ActionIn

    return _resident_action(call, "decline_quote", ActionIn(reason=call.body.reason))


@api.route(bp, "POST", "/v1/me/attachments", auth="resident", body=schemas.AttachmentIn,
           response=schemas.AttachmentUploadOut,
           status=201, tags=RESIDENT, summary="A presigned upload for a photo (jpeg/png/webp/heic, ≤ 10 MB)")
def my_attachment(call: Call) -> AttachmentUploadOut:
    return intake().presign_attachment(call.tenant, call.body, utcnow())
