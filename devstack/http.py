"""The API over HTTP on loopback: Chalice's local gateway with API Gateway's error shapes ours."""
from __future__ import annotations

import json
import uuid
from typing import Any

from chalice.config import Config
from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer, LocalGatewayException


class LinliRequestHandler(ChaliceRequestHandler):
    """Unknown routes answer 404 in the API's error shape (infra does the same with GatewayResponses)."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet access log
        return

    def handle(self) -> None:
        """A client that hangs up mid-request or mid-response (an interrupted curl, a closed tab) just ends its
        connection, as it does behind API Gateway: no traceback in the terminal."""
        try:
            super().handle()
        except ConnectionError:  # BrokenPipeError, ConnectionResetError, ConnectionAbortedError
            self.close_connection = True

    def _send_error_response(self, error: LocalGatewayException) -> None:
        request_id = str(uuid.uuid4())
        status = 404 if error.CODE == 403 else error.CODE
        code = "route_not_found" if status == 404 else "unauthenticated"
        message = "No route matches this method and path." if status == 404 else "Missing or invalid credentials."
        body = json.dumps({"error": {"code": code, "message": message, "request_id": request_id}})
        self._send_http_response(status, {"Content-Type": "application/json; charset=utf-8",
                                          "X-Request-Id": request_id}, body)


def make_server(app: Any, host: str, port: int, stage: str = "local") -> LocalDevServer:
    """A threaded HTTP server for the app (what ``chalice local`` builds, with our handler)."""
    if not isinstance(app, LocalChalice):  # thread-local current_request, as chalice local sets up
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    config = Config.create(chalice_stage=stage, app_name="linli", lambda_timeout=30, lambda_memory_size=1024)
    return LocalDevServer(app, config, host, port, handler_cls=LinliRequestHandler)
