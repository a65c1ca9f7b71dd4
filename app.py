"""Linli: registers blueprints, middleware and event entry points. No logic lives here."""
from chalice import Chalice, ConvertToMiddleware

from chalicelib import bootstrap
from chalicelib.core import openapi
from chalicelib.core.http import api, http_middleware
from chalicelib.core.observability import logger, metrics, tracing_middleware
from chalicelib.core.settings import get_settings
from chalicelib.notifications import api as notifications_api
from chalicelib.reports import api as reports_api
from chalicelib.residents import api as residents_api
from chalicelib.residents import login_api
from chalicelib.residents.imports import api as imports_api
from chalicelib.tenants import api as tenants_api
from chalicelib.tickets import api as tickets_api
from chalicelib.webhooks import api as webhooks_api

app = Chalice(app_name="linli")
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(clear_state=True)), "all")
if tracing := tracing_middleware():
    app.register_middleware(ConvertToMiddleware(tracing), "all")
app.register_middleware(ConvertToMiddleware(metrics.log_metrics), "all")
app.register_middleware(http_middleware, "http")

for blueprint in (tenants_api.bp, residents_api.bp, login_api.bp, imports_api.bp, tickets_api.bp, webhooks_api.bp,
                  notifications_api.bp, reports_api.bp, openapi.bp):
    app.register_blueprint(blueprint)
if get_settings().serves_dev_routes:  # recorded messages: only in the local stage, only when listening on loopback
    from chalicelib.notifications import dev_api

    app.register_blueprint(dev_api.bp)

bootstrap.wire(api)


@app.schedule("rate(1 hour)", name="auto_close")
def auto_close(event):
    """Close resolved tickets whose confirmation window has passed."""
    from chalicelib.core.clock import utcnow

    return {"closed": bootstrap.ticket_schedules().auto_close_due(utcnow())}


@app.schedule("rate(1 minute)", name="sla_sweep")
def sla_sweep(event):
    """Read the due SLA buckets and schedule exact checks on the SLA queue."""
    from chalicelib.core.clock import utcnow

    report = bootstrap.sla_sweep().run(utcnow())
    return {"buckets": report.buckets, "items_read": report.items_read, "scheduled": report.scheduled}


@app.schedule("rate(1 minute)", name="notification_holds")
def notification_holds(event):
    """Read the due minutes of held notifications (quiet hours) and put each event back on the notifications queue
    to arrive as its window ends."""
    from chalicelib.core.clock import utcnow

    report = bootstrap.hold_sweep().run(utcnow())
    return {"buckets": report.buckets, "items_read": report.items_read, "released": report.released}


@app.lambda_function(name="sla_consumer")
def sla_consumer(event, context):
    """SLA queue → warnings, breaches and escalations recorded exactly once (partial batch failures reported)."""
    from chalicelib.core.batch import consume_sqs
    from chalicelib.sla.sweep import handle_check

    schedules, wait_again = bootstrap.ticket_schedules(), bootstrap.sla_check_sender()
    return consume_sqs(event, context, lambda body, now: handle_check(body, schedules.sla_check, now, wait_again))


@app.lambda_function(name="notifications_consumer")
def notifications_consumer(event, context):
    """Notifications queue → the tenant's rules → SMS, WeChat, e-mail and the in-app inbox; and residents'
    sign-in codes, queued by the OTP route (partial batch failures reported)."""
    from chalicelib.core.batch import bodies, consume_sqs
    from chalicelib.residents.login import OTP_MESSAGE

    consumer, codes = bootstrap.notification_consumer().for_batch(bodies(event)), bootstrap.otp_delivery()
    try:
        return consume_sqs(event, context, lambda body, now: (codes if body.get("type") == OTP_MESSAGE
                                                              else consumer).handle(body, now))
    finally:
        consumer.flush()  # the outcomes of what was sent, even if the batch failed


@app.lambda_function(name="webhooks_consumer")
def webhooks_consumer(event, context):
    """Webhooks queue → deliveries per endpoint → signed attempts with retries (partial batch failures reported)."""
    from chalicelib.core.batch import consume_sqs

    deliverer = bootstrap.webhook_deliverer()
    deliverer.inline_within(context.get_remaining_time_in_millis() / 1000)  # first attempts in the fan-out
    return consume_sqs(event, context, deliverer.handle)


@app.lambda_function(name="imports_consumer")
def imports_consumer(event, context):
    """Imports queue (the jobs queue) → an import job's steps: read the uploaded file, apply one chunk of rows,
    complete the job; and a ticket export's one step (partial batch failures reported)."""
    from chalicelib.core.batch import consume_sqs

    return consume_sqs(event, context, bootstrap.job_worker)


@app.lambda_function(name="reports_consumer")
def reports_consumer(event, context):
    """Reports queue → a ticket's event log folded again → the KPI rollups moved by the difference (idempotent;
    partial batch failures reported)."""
    from chalicelib.core.batch import consume_sqs

    return consume_sqs(event, context, bootstrap.rollup_maintainer().for_batch())


@app.lambda_function(name="rebuild_reports")
def rebuild_reports(event, context):
    """Invoked by an operator: ``{"tenant_id": "tnt_…"}`` — every ticket's event log folded again, so the tenant's
    KPI rollups equal a recomputation from the log (idempotent; answers tickets read and how many changed)."""
    return bootstrap.rollup_maintainer().rebuild(event["tenant_id"])


@app.lambda_function(name="event_dispatcher")
def event_dispatcher(event, context):
    """DynamoDB stream (event items only, filtered in infra) → SQS queues (the webhooks queue only for tenants with an
    endpoint: at most one BatchGetItem of endpoint counters per batch)."""
    from chalicelib.events.dispatcher import dispatch

    return dispatch(event, urls=bootstrap.event_queue_urls(), send_batch=bootstrap.sqs_send_batch(),
                    tenants_with_webhooks=bootstrap.tenants_with_webhooks())


@app.lambda_function(name="replay_dispatch_failures")
def replay_dispatch_failures(event, context):
    """Invoked by an operator once the cause is fixed: the dispatcher's dead letters (stream batches it gave up on)
    dispatched again and deleted; idempotent. ``{"max_messages": N}`` bounds a run; answers what it did."""
    limit = int((event or {}).get("max_messages", 1000))
    return bootstrap.dispatch_failure_replay().run(max_letters=limit,
                                                   time_left_ms=context.get_remaining_time_in_millis).as_dict()
