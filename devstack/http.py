"""The API over HTTP on loopback: Chalice's local gateway with API Gateway's error shapes ours."""
from __future__ import annotations

import json
import uuid
from typing import Any

from chalice.config import Config
from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer, LocalGatewayException

from devstack.web import WebApps

WEB_APPS = WebApps()


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

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        """The built web apps (``devstack.web``) on the same origin as the API; anything else is the API's."""
        found = WEB_APPS.lookup(self.path.split("?", 1)[0])
        if found is None:
            return self._generic_handle()
        self.send_response(found.status)
        for name, value in found.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(found.body)
        return None

    def _send_http_response(self, code: int, headers: Any, body: Any) -> None:
        """A 304 (``If-None-Match`` matched) has no content, so no Content-Type and no Content-Length: a length
        there would have to be the 200's (RFC 9110 §8.6), and Chalice's local gateway would send 0."""
        if code != 304:
            return super()._send_http_response(code, headers, body)
        self.send_response(code)
        self._send_headers({k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")})
        return None

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
