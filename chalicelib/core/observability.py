"""Logger, Metrics and Tracer (Powertools), created once per container.

Logs are JSON with ``tenant_id`` and ``request_id``; phone numbers, e-mail addresses,
tokens and secrets are redacted before a record is written.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

SERVICE = "linli"

_SECRET_KEYS = re.compile(r"pass(word)?|secret|token|authorization|api[_-]?key|otp|code$|cookie", re.I)
_PATTERNS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+"), "[jwt]"),
    (re.compile(r"\b(lk_live_|rt_|whsec_)[\w\-.]+"), lambda m: m.group(1) + "[redacted]"),
    (re.compile(r"(?i)\bbearer\s+\S+"), "Bearer [redacted]"),
    (re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)\d{4}(\d{4})(?!\d)"), r"\1****\2"),
    (re.compile(r"([\w.+-])[\w.+-]*@([\w-]+\.[\w.-]+)"), r"\1***@\2"),
]


def redact_text(text: str) -> str:
    """Mask phones, e-mails and credentials inside free text.

    Example
    -------
    >>> redact_text("call 13812345678 or mail wang@example.com")
    'call 138****5678 or mail w***@example.com'
    """
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any, key: str = "") -> Any:
    if key and _SECRET_KEYS.search(key) and isinstance(value, (str, bytes)):
        return "[redacted]"
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        return super().serialize({k: redact(v, k) for k, v in log.items()})


class QuietEMFProvider(AmazonCloudWatchEMFProvider):
    """Powertools' CloudWatch EMF provider, silent when metrics are off and when there is nothing to say.

    Powertools honours ``POWERTOOLS_METRICS_DISABLED`` only when flushing; with metrics off it never clears the
    set, so values pile up until the 100th of one metric, which ``add_metric`` prints unconditionally (the EMF
    lines ``make run`` used to show). It also warns "No application metrics to publish" on every flush of an
    invocation that recorded none (schedules, most requests). Here a disabled metric is never recorded and an
    empty flush is a no-op. Both checks read the environment when called, so import order does not matter.
    """

    def add_metric(self, name: str, unit: Any, value: float, resolution: Any = 60) -> None:
        if not is_metrics_disabled():
            super().add_metric(name=name, unit=unit, value=value, resolution=resolution)

    def flush_metrics(self, raise_on_empty_metrics: bool = False) -> None:
        if self.metric_set or raise_on_empty_metrics:
            super().flush_metrics(raise_on_empty_metrics=raise_on_empty_metrics)


logger = Logger(service=SERVICE, logger_formatter=RedactingFormatter())
metrics = Metrics(provider=QuietEMFProvider(namespace="Linli", service=SERVICE))


def tracing_middleware() -> Callable[..., Any] | None:
    """Powertools Tracer, only when ``LINLI_TRACING=true``.

    The X-Ray SDK costs ~300 ms of cold start; Lambda's active tracing already records every
    invocation, so the SDK's subsegments are opt-in for when someone is chasing latency.
    """
    if os.environ.get("LINLI_TRACING", "").lower() != "true":
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE).capture_lambda_handler
