"""Domain errors. Each carries its HTTP status and a stable snake_case code.

They are mapped to the API's error shape in exactly one place (``core.http``).
"""
from __future__ import annotations

from typing import Any


class LinliError(Exception):
    status = 500
    code = "internal_error"
    default_message = "An internal error occurred."

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 details: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        if code:
            self.code = code
        self.details = details
        self.headers = headers or {}


class MalformedRequestError(LinliError):
    status, code, default_message = 400, "malformed_request", "The request could not be parsed."


class InvalidCursorError(MalformedRequestError):
    code, default_message = "invalid_cursor", "The cursor is not valid for this list."


class UnauthenticatedError(LinliError):
    status, code, default_message = 401, "unauthenticated", "Missing or invalid credentials."


class InvalidCredentialsError(UnauthenticatedError):
    code, default_message = "invalid_credentials", "The email or password is incorrect."


class ForbiddenError(LinliError):
    status, code, default_message = 403, "forbidden", "Your role does not allow this action."


class NotFoundError(LinliError):
    status, code, default_message = 404, "not_found", "The resource does not exist."


class RouteNotFoundError(NotFoundError):
    code, default_message = "route_not_found", "No route matches this method and path."


class MethodNotAllowedError(LinliError):
    status, code, default_message = 405, "method_not_allowed", "This method is not allowed on this path."


class ConflictError(LinliError):
    status, code, default_message = 409, "conflict", "The request conflicts with the current state."


class PreconditionFailedError(LinliError):
    status, code, default_message = 412, "version_mismatch", "The resource has changed since you read it."


class PayloadTooLargeError(LinliError):
    status, code, default_message = 413, "payload_too_large", "The request body is too large."


class UnsupportedMediaTypeError(LinliError):
    status, code, default_message = 415, "unsupported_media_type", "Send JSON (application/json)."


class ValidationFailedError(LinliError):
    status, code, default_message = 422, "validation_failed", "Some fields are invalid."


class RateLimitedError(LinliError):
    status, code, default_message = 429, "rate_limited", "Too many requests; retry later."

    def __init__(self, message: str | None = None, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code, headers={"Retry-After": str(max(1, int(retry_after)))})
        self.retry_after = retry_after
