"""The SMS spool: texts kept on local disk while the store cannot record them.

SPEC §4 says held contact is never lost, and issue 7 says a text that arrives while
the database is down is held locally until it returns. Twilio does not queue for us
(an error answer sends it to the fallback URL, or nowhere), so the gateway keeps the
text itself before it answers ``200``, in the durable spool of ``gateway.spool.maildir``: one
file per text, ``<MessageSid>.json``, holding Twilio's parameters as they were signed,
the MessageSid and the time the text arrived (a retry keeps the first arrival time).

``SmsSpool`` is the directory (``GATEWAY_SPOOL_DIR`` itself); ``gateway.twilio.sms_replay``
replays it into the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from gateway.spool.maildir import BadSpoolFile, Spool, dump_kept, load_kept, read_instant

FORMAT = 1


@dataclass(frozen=True, slots=True)
class SpooledText:
    """One kept text: Twilio's parameters, its MessageSid and when it arrived."""

    message_sid: str
    received_at: datetime
    params: Mapping[str, str]
    path: Path | None = None  # where it is kept, once it is

    @property
    def key(self) -> str:
        return self.message_sid

    @property
    def arrived(self) -> datetime:
        return self.received_at

    @property
    def label(self) -> str:
        return f"text {self.message_sid}"

    def to_json(self) -> bytes:
        return dump_kept(
            FORMAT,
            {
                "message_sid": self.message_sid,
                "received_at": self.received_at.isoformat(),
                "params": dict(self.params),
            },
        )

    @classmethod
    def from_json(cls, data: bytes, path: Path) -> SpooledText:
        """Read a kept text back; :class:`BadSpoolFile` says what is wrong with it."""
        body = load_kept(data, FORMAT, "text")
        sid, at, params = body.get("message_sid"), body.get("received_at"), body.get("params")
        if not isinstance(sid, str) or not sid:
            raise BadSpoolFile("message_sid is missing")
        if not isinstance(params, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in params.items()
        ):
            raise BadSpoolFile("params is not a map of Twilio parameters")
        return cls(sid, read_instant(at, "received_at"), params, path)


class SmsSpool(Spool[SpooledText]):
    """The texts' spool directory: ``GATEWAY_SPOOL_DIR``, its ``tmp/`` and ``bad/``."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, SpooledText.from_json, name="SMS spool", logger=__name__)
