"""The embedded stack: AWS emulator on loopback, resources from infra/, demo data, the API
over HTTP and the event-source emulator, in one process. Given a data directory (``make run``:
``.linli/``) its data and keys persist across restarts and kills (``devstack.journal``)."""
from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devstack.compat import serialize_ast_parse
from devstack.emulator import (
    Emulator,
    LambdaContext,
    QueuePoller,
    StreamPoller,
    queue_mapping_options,
    stream_mapping_options,
)
from devstack.resources import LocalResources, create_resources, event_source_settings

if TYPE_CHECKING:
    from devstack.journal import Journal

HOST = "127.0.0.1"
_STARTED_BY_US: set[str] = set()  # endpoints of emulators this process started (not a user's AWS_ENDPOINT_URL)


SCHEDULED_EVENT = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}, "resources": [],
                   "time": "", "region": "local", "account": "000000000000", "id": "local", "version": "0"}


class PortBusyError(RuntimeError):
    pass


def ensure_port_free(port: int, variable: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            raise PortBusyError(f"Port {port} on {HOST} is already in use; set {variable} to a free port.") from exc


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class LocalStack:
    http_port: int = 8000
    aws_port: int = 4566
    seed: bool = True
    table_name: str = "linli-local"
    failure_visibility_seconds: int = 2
    log_level: str | None = None  # what the app logs (make run: LINLI_LOG_LEVEL); None keeps POWERTOOLS_LOG_LEVEL
    consumers: dict[str, Any] = field(default_factory=dict)
    data_dir: Path | None = None  # where the data persists (make run: .linli/); None keeps it all in memory (tests)
    journal: Journal | None = None  # the data directory's journal, when this stack runs the AWS emulator
    endpoint: str = ""
    resources: LocalResources | None = None
    _moto: Any = None
    _http: Any = None
    _http_thread: threading.Thread | None = None
    emulator: Emulator | None = None
    stream_poller: StreamPoller | None = None
    _sqs: Any = None

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.http_port}"

    def start(self) -> "LocalStack":
        serialize_ast_parse()  # the API and the consumers run as threads of this process (see devstack.compat)
        external = os.environ.get("AWS_ENDPOINT_URL")
        if external in _STARTED_BY_US:
            external = None
        ensure_port_free(self.http_port, "LINLI_HTTP_PORT")
        if external:
            self.endpoint = external
        else:
            ensure_port_free(self.aws_port, "LINLI_AWS_PORT")
            from devstack.aws import SerialMotoServer

            if self.data_dir is not None:
                from devstack.journal import Journal

                self.journal = Journal(Path(self.data_dir))  # locks the directory: one stack per data directory
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
            self._moto = SerialMotoServer(ip_address=HOST, port=self.aws_port, verbose=False, journal=self.journal)
            self._moto.start()
            self.endpoint = f"http://{HOST}:{self.aws_port}"
            _STARTED_BY_US.add(self.endpoint)
        self._configure_environment()
        import boto3

        session = boto3.session.Session(region_name=os.environ["AWS_REGION"])
        if self.journal:  # keys first: the resources then find the secrets key rather than make another
            self.journal.restore_keys()
        self.resources = create_resources(session, self.table_name, prefix=self.table_name)
        if self.journal:
            from devstack.journal import stream_filter

            self.journal.restore(self._moto.app, stream_filter())
            self.journal.begin()
        os.environ.update({
            "LINLI_NOTIFICATIONS_QUEUE_URL": self.resources.queue_urls["notifications"],
            "LINLI_WEBHOOKS_QUEUE_URL": self.resources.queue_urls["webhooks"],
            "LINLI_SLA_QUEUE_URL": self.resources.queue_urls["sla"],
            "LINLI_IMPORTS_QUEUE_URL": self.resources.queue_urls["imports"],
            "LINLI_REPORTS_QUEUE_URL": self.resources.queue_urls["reports"],
            "LINLI_DISPATCH_FAILURES_QUEUE_URL": self.resources.dispatch_failures_url,
            "LINLI_ATTACHMENTS_BUCKET": self.resources.attachments_bucket,
        })
        from chalicelib import bootstrap
        from chalicelib.core.http import api

        bootstrap.reset()
        import app as application

        bootstrap.wire(api)
        if self.seed and not (self.journal and self.journal.seeded):  # seeded once per data directory
            from devstack.demo import seed_demo

            seed_demo()
            if self.journal:
                self.journal.mark_seeded()
        elif self.journal:  # data kept from an earlier run, perhaps by older code
            from devstack.demo import upgrade_data

            upgrade_data()
        self._start_http(application.app)
        if self.journal:
            from devstack.journal import MarkingApp

            application = MarkingApp(application, self.journal, self.table_name)
        self._start_emulator(session, application)
        return self

    def _configure_environment(self) -> None:
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        os.environ.setdefault("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
        os.environ.setdefault("AWS_DEFAULT_REGION", os.environ["AWS_REGION"])
        os.environ["AWS_ENDPOINT_URL"] = self.endpoint
        os.environ.setdefault("LINLI_STAGE", "local")
        os.environ["LINLI_LISTEN"] = "loopback"  # the API binds HOST (127.0.0.1): what lets the dev routes exist
        os.environ["LINLI_TABLE_NAME"] = self.table_name
        if not os.environ.get("LINLI_JWT_KEYS") and self.data_dir is not None:  # kept: tokens outlive a restart
            from devstack.journal import signing_keys

            os.environ["LINLI_JWT_KEYS"], os.environ["LINLI_JWT_ACTIVE_KID"] = signing_keys(Path(self.data_dir))
        elif not os.environ.get("LINLI_JWT_KEYS"):
            os.environ["LINLI_JWT_KEYS"] = json.dumps({"local-1": secrets.token_urlsafe(48)})
            os.environ["LINLI_JWT_ACTIVE_KID"] = "local-1"
        if self.log_level:
            os.environ["POWERTOOLS_LOG_LEVEL"] = self.log_level.upper()
        for name, value in (("LINLI_WEBHOOK_ALLOW_LOOPBACK", "true"), ("LINLI_WEBHOOK_RETRY_SCALE", "0.01"),
                            ("POWERTOOLS_METRICS_DISABLED", "true"), ("POWERTOOLS_TRACE_DISABLED", "true"),
                            ("POWERTOOLS_LOG_LEVEL", "WARNING")):
            os.environ.setdefault(name, value)
        from chalicelib.core.observability import logger

        logger.setLevel(os.environ["POWERTOOLS_LOG_LEVEL"])  # the logger exists already: apply the level now

    def _start_http(self, app: Any) -> None:
        from devstack.http import make_server

        self._http = make_server(app, HOST, self.http_port)
        self._http_thread = threading.Thread(target=self._http.server.serve_forever, name="linli-http", daemon=True)
        self._http_thread.start()

    def _start_emulator(self, session: Any, application: Any) -> None:
        assert self.resources is not None
        # Woken by the emulator's doorbell when it is this stack's own (another stack's pollers would share its bells)
        self.emulator = Emulator(doorbell=self._moto.doorbell if self._moto else None)
        # As the mapping says (batch, filter, retries, bisection, record age), giving up into its on-failure queue.
        mapping = event_source_settings("EventDispatcherStreamMapping")
        self.stream_poller = StreamPoller(session, self.resources.stream_arn, application.event_dispatcher,
                                          **stream_mapping_options(mapping),
                                          on_failure_url=self.resources.dispatch_failures_url)
        self.emulator.add_poller("event_dispatcher", self.stream_poller)
        self._sqs = session.client("sqs")
        for queue, handler in self.consumers.items():
            self.emulator.add_poller(queue, QueuePoller(
                session, self.resources.queue_urls[queue], handler,
                wait_seconds=0, failure_visibility_seconds=self.failure_visibility_seconds, name=queue))
        # Each consumer as its mapping says: batch size, batching window, and up to MaximumConcurrency batches at once.
        consumers = [("notifications_consumer", "notifications", "NotificationsConsumerQueueMapping"),
                     ("sla_consumer", "sla", "SlaConsumerQueueMapping"),
                     ("imports_consumer", "imports", "ImportsConsumerQueueMapping"),
                     ("reports_consumer", "reports", "ReportsConsumerQueueMapping")]
        if "webhooks" not in self.consumers:
            consumers.insert(1, ("webhooks_consumer", "webhooks", "WebhooksConsumerQueueMapping"))
        for name, queue, mapping_id in consumers:
            options = queue_mapping_options(event_source_settings(mapping_id))
            self.emulator.add_poller(name, QueuePoller(
                session, self.resources.queue_urls[queue], getattr(application, name), wait_seconds=0,
                batch_size=options["batch_size"], batching_window=options["batching_window"],
                failure_visibility_seconds=self.failure_visibility_seconds,
                name=name), concurrency=options["concurrency"])
        self.emulator.add_schedule("sla_sweep", lambda: application.sla_sweep(
            SCHEDULED_EVENT,
            LambdaContext("sla_sweep")), float(os.environ.get("LINLI_SLA_SWEEP_SECONDS", "5")))
        interval = float(os.environ.get("LINLI_SCHEDULE_SECONDS", "60"))
        # every minute, as deployed: a hold is released to the second by its queue delay, the sweep only has to see
        # it a minute ahead (and each run's DueIndex Queries cost the emulator a pass over the whole table)
        self.emulator.add_schedule("notification_holds", lambda: application.notification_holds(
            SCHEDULED_EVENT,
            LambdaContext("notification_holds")), interval)
        self.emulator.add_schedule("auto_close", lambda: application.auto_close(
            SCHEDULED_EVENT,
            LambdaContext("auto_close")), interval)
        self.emulator.start()

    def settle(self, queue: str, timeout: float = 60.0) -> None:
        """Wait until every event written so far has been dispatched and ``queue`` holds nothing visible or in
        flight: its consumer has handled all it was given (delayed messages, such as retries, are not waited for).
        What a test uses to show that something did *not* happen, instead of sleeping."""
        assert self.resources is not None and self.stream_poller is not None
        deadline = time.monotonic() + timeout
        wanted = self.stream_poller.idle_passes + 2  # a whole pass that began after this call found nothing new
        counts = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
        while time.monotonic() < deadline:
            if self._moto and self.stream_poller.idle_passes < wanted:  # a pass now, not at the next idle look
                self._moto.doorbell.ring(self.stream_poller.wakes_on)
            if self.stream_poller.idle_passes >= wanted:
                attributes = self._sqs.get_queue_attributes(QueueUrl=self.resources.queue_urls[queue],
                                                            AttributeNames=list(counts))["Attributes"]
                if all(int(attributes[name]) == 0 for name in counts):
                    return
            time.sleep(0.05)
        raise TimeoutError(f"the {queue} queue did not settle within {timeout:g} s")

    def stop(self) -> None:
        if self.emulator:
            self.emulator.stop()
        if self._http:
            self._http.server.shutdown()
            self._http.server.server_close()
        if self._moto:
            self._moto.stop()
        if self.journal:
            self.journal.close()
