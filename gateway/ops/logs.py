"""Structured logs: one JSON object per line, naming the request or contact being handled.

``configure_logging`` is called by ``contact-gateway serve`` and by nothing else (STYLE
§1: no logging configuration at import time); other commands and the tests keep the
standard library's defaults. ``GATEWAY_LOG_FORMAT`` chooses ``json`` (the default: one
object per line, for a log pipeline) or ``text`` (for a person at a terminal).

Every line emitted while one piece of work is handled carries its ids, through a
``ContextVar`` that a filter copies onto each record:

* an HTTP request: ``request_id``, from a sane ``X-Request-Id`` header or made up, and
  echoed in the response (``request_ids`` middleware). aiohttp handles each request in
  a task of its own, so what is bound there lasts exactly as long as the request, its
  access-log line included; for a Twilio webhook also ``contact_id`` (the CallSid or
  MessageSid) and ``channel``;
* an SMTP message: ``contact_id`` (its Message-ID, else the queue id) bound by the mail
  sink in the task the SMTP channel runs each message in;
* a queued delivery: ``mail_id``, bound per attempt.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TextIO

from aiohttp import web
from aiohttp.typedefs import Handler

REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID = web.RequestKey("request_id", str)
# What a client or proxy may choose as a request id: short, printable, no spaces.
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,127}")
_TWILIO_SIDS = ("CallSid", "MessageSid", "SmsSid")
_FORM = "application/x-www-form-urlencoded"

# A context variable is not state in STYLE §1's sense: it holds nothing until a request
# or a message binds its ids, and each task sees only its own (or its parent's) value.
_FIELDS: ContextVar[Mapping[str, str]] = ContextVar(
    "gateway_log_fields", default=MappingProxyType({})
)

# Attributes every LogRecord has; anything else on a record is an extra field.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def bind(**fields: str) -> None:
    """Add ``fields`` to every log line of the current task from now on (and of tasks it
    starts). Only for a task that is about one thing: a request, a message."""
    _FIELDS.set({**_FIELDS.get(), **fields})


@contextmanager
def log_context(**fields: str) -> Iterator[None]:
    """Add ``fields`` to the log lines emitted inside the ``with`` block only."""
    token = _FIELDS.set({**_FIELDS.get(), **fields})
    try:
        yield
    finally:
        _FIELDS.reset(token)


def current_fields() -> Mapping[str, str]:
    """The ids bound for the work being done now."""
    return _FIELDS.get()


class ContextFilter(logging.Filter):
    """Copies the bound ids onto each record (an explicit ``extra=`` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _FIELDS.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _STANDARD and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per record: timestamp, level, logger, message, then any ids and
    ``extra=`` fields, then the formatted exception if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _extras(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The classic one-line format, with the bound ids appended in brackets."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        extras = _extras(record)
        if not extras:
            return line
        return line + " [" + " ".join(f"{k}={v}" for k, v in extras.items()) + "]"


def configure_logging(
    log_format: str, *, level: int = logging.INFO, stream: TextIO | None = None
) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) as ``json`` or ``text`` (the two
    values ``GATEWAY_LOG_FORMAT`` allows); called at serve time.

    Replaces a handler an earlier call installed, and leaves any other handler alone.
    Returns the handler, so a caller that is not the whole process can remove it.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_contact_gateway", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(TextFormatter() if log_format == "text" else JsonFormatter())
    handler.addFilter(ContextFilter())
    handler._contact_gateway = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return handler


# New request ids: this process's random prefix and a count. Unique across processes
# and restarts like a random id, without asking the kernel for randomness per request
# (which cost 2 % of a webhook's time); an id identifies, it need not be secret.
_ID_PREFIX = secrets.token_hex(8)
_ID_COUNT = itertools.count(1)


def request_id_for(request: web.Request) -> str:
    """The client's (or proxy's) ``X-Request-Id`` when it is sane, else a new one."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    if _SANE_ID.fullmatch(given):
        return given
    return f"{_ID_PREFIX}{next(_ID_COUNT):016x}"


async def _webhook_fields(request: web.Request) -> dict[str, str]:
    """A Twilio webhook's CallSid or MessageSid, so every line about it names the contact.

    The form is read before its signature is checked, for the log only: aiohttp keeps
    the parsed form, so the channel's signature check reads the same one, and a forged
    request's refusal is then logged with the sid it claimed.
    """
    path = request.path
    if request.method != "POST" or not path.startswith("/twilio/"):
        return {}
    if request.content_type != _FORM:
        return {}
    channel = "sms" if path.startswith("/twilio/sms") else "voice"
    try:
        form = await request.post()
    except (ValueError, LookupError):  # unreadable: the channel answers 400 and says why
        return {"channel": channel}
    for name in _TWILIO_SIDS:
        sid = form.get(name)
        if isinstance(sid, str) and _SANE_ID.fullmatch(sid):
            return {"contact_id": sid, "channel": channel}
    return {"channel": channel}


@web.middleware
async def request_ids(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bind the request's id (and a webhook's contact id) for the whole request."""
    request_id = request[REQUEST_ID] = request_id_for(request)
    bind(request_id=request_id, **await _webhook_fields(request))
    return await handler(request)


async def _echo_request_id(request: web.BaseRequest, response: web.StreamResponse) -> None:
    request_id = request.get(REQUEST_ID)
    if request_id is not None:
        response.headers[REQUEST_ID_HEADER] = request_id


def setup_request_ids(app: web.Application) -> None:
    """Give every request an id (outermost middleware) and echo it on every response,
    error pages included."""
    app.middlewares.insert(0, request_ids)
    app.on_response_prepare.append(_echo_request_id)
