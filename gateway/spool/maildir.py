"""A local durable spool: things kept on disk while the store cannot record them.

Issue 7 says nothing is ever lost or allowed without a record, and the database can be
down. What the gateway must not lose meanwhile (a text it answered, the incident of a
call it put through undecided) is kept in a directory the way Maildir keeps mail:

* one JSON file per thing, named by the key it is recorded under (a MessageSid, a
  call's incident key), so a retry finds the first file and keeps its arrival time;
* written under ``tmp/``, flushed and ``fsync``'d, then linked into the directory
  (which never replaces a file already kept under that name), and the directory
  ``fsync``'d: a kept file survives a crash or a power cut, and a half-written one is
  never in the directory;
* a file that cannot be read back is moved to ``bad/`` with an error in the log naming
  it. Nothing is ever deleted here but a file whose record is committed.

``Spool`` is the directory only, for one kind of thing (``gateway.twilio.sms_spool`` for texts,
``gateway.twilio.incident_spool`` for call incidents); ``gateway.spool.replay`` empties it.
All file work runs in a worker thread: ``fsync`` may take milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

SUFFIX = ".json"
# A key made of these is its own file name (":" becomes "."); any other is hashed.
_SAFE_KEY = re.compile(r"^[A-Za-z0-9_:-]{1,100}$")


class SpoolUnusable(RuntimeError):
    """The spool directory cannot be created or written (the message names the variable)."""


class BadSpoolFile(ValueError):
    """A file in the spool is not something this gateway wrote."""


class Kept(Protocol):
    """What a spool keeps: something recorded under ``key``, that arrived at ``arrived``."""

    @property
    def key(self) -> str: ...

    @property
    def arrived(self) -> datetime: ...

    @property
    def label(self) -> str:
        """What it is, for the log: ``text SM...``, ``call incident CA...:incident``."""
        ...

    @property
    def path(self) -> Path | None:
        """Where it is kept, once it is (set when read back)."""
        ...

    def to_json(self) -> bytes: ...


K = TypeVar("K", bound=Kept)

# Reads a kept file back (its bytes, its path), raising BadSpoolFile.
Reader = Callable[[bytes, Path], K]


def file_name(key: str) -> str:
    """``<key>.json`` with ``:`` as ``.``; a key that is not a plain token is hashed."""
    if _SAFE_KEY.match(key):
        return key.replace(":", ".") + SUFFIX
    return "sid-" + hashlib.sha256(key.encode("utf-8")).hexdigest() + SUFFIX


def dump_kept(format_id: int, body: dict[str, Any]) -> bytes:
    """A kept item's file: its fields and the format they are in, as readable JSON."""
    document = {"format": format_id, **body}
    return json.dumps(document, sort_keys=True, ensure_ascii=False, indent=1).encode("utf-8")


def load_kept(data: bytes, format_id: int, what: str) -> dict[str, Any]:
    """The fields of a file :func:`dump_kept` wrote; :class:`BadSpoolFile` if it is not one
    (``what`` names the kind of item, for the message)."""
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadSpoolFile(f"not JSON ({exc})") from None
    if not isinstance(body, dict) or body.get("format") != format_id:
        raise BadSpoolFile(f"not a spooled {what} of format {format_id}")
    return body


def read_instant(value: Any, name: str) -> datetime:
    """An aware ISO 8601 instant from a kept file, or :class:`BadSpoolFile`."""
    if not isinstance(value, str):
        raise BadSpoolFile(f"{name} is missing")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise BadSpoolFile(f"{name} {value!r} is not an ISO 8601 instant") from None
    if at.tzinfo is None:
        raise BadSpoolFile(f"{name} {value!r} has no time zone")
    return at


class Spool(Generic[K]):
    """One spool directory, with ``tmp/`` for files being written and ``bad/`` for files
    that cannot be read back. Several processes may share it: every step is atomic."""

    def __init__(self, directory: Path, read: Reader[K], *, name: str, logger: str) -> None:
        self.directory = directory
        self.tmp = directory / "tmp"
        self.bad = directory / "bad"
        self.name = name  # "SMS spool": how the log and errors speak of it
        self._read = read
        self._log = logging.getLogger(logger)

    async def prepare(self) -> None:
        """Create the directories now, so a spool that cannot be written stops start-up
        rather than failing on the day the database is down."""
        try:
            await asyncio.to_thread(self._make_dirs)
        except OSError as exc:
            raise SpoolUnusable(
                f"GATEWAY_SPOOL_DIR: cannot use {self.directory} for the {self.name}: {exc}"
            ) from exc

    async def keep(self, item: K) -> bool:
        """Write ``item`` durably; False when one with its key is already kept."""
        return await asyncio.to_thread(self._write, item)

    async def holds(self, key: str) -> bool:
        """True when something is kept under ``key`` (waiting to be replayed)."""
        return await asyncio.to_thread((self.directory / file_name(key)).is_file)

    async def pending(self) -> list[K]:
        """Everything kept, oldest arrival first. Files that cannot be read are set aside."""
        return await asyncio.to_thread(self._read_all)

    async def remove(self, item: K) -> None:
        """Forget something whose record is committed (another process may have already)."""
        if item.path is not None:
            await asyncio.to_thread(self._unlink, item.path)

    async def set_aside(self, path: Path, why: str) -> Path | None:
        """Move ``path`` to ``bad/`` and say so in the log; None if it had gone already."""
        return await asyncio.to_thread(self._set_aside, path, why)

    def _make_dirs(self) -> None:
        for folder in (self.directory, self.tmp, self.bad):
            folder.mkdir(parents=True, exist_ok=True)

    def _write(self, item: K) -> bool:
        self._make_dirs()
        final = self.directory / file_name(item.key)
        if final.exists():
            return False
        temp = self.tmp / f"{final.name}.{os.getpid()}.{secrets.token_hex(6)}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            data = item.to_json()
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            kept = _link_new(temp, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
        _sync_dir(self.directory)
        return kept

    def _read_all(self) -> list[K]:
        if not self.directory.is_dir():
            return []
        items: list[K] = []
        for path in self.directory.iterdir():
            if path.suffix != SUFFIX or not path.is_file():
                continue
            try:
                items.append(self._read(path.read_bytes(), path))
            except FileNotFoundError:
                continue  # replayed by another process sharing the directory
            except BadSpoolFile as exc:
                self._set_aside(path, str(exc))
        items.sort(key=lambda item: (item.arrived, item.key))
        return items

    def _unlink(self, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            _sync_dir(path.parent)

    def _set_aside(self, path: Path, why: str) -> Path | None:
        self.bad.mkdir(parents=True, exist_ok=True)
        target = self.bad / path.name
        if target.exists():
            target = self.bad / f"{path.stem}.{secrets.token_hex(4)}{path.suffix}"
        try:
            path.rename(target)
        except FileNotFoundError:
            return None
        _sync_dir(self.bad)
        _sync_dir(path.parent)
        self._log.error(
            "%s: %s cannot be replayed (%s); moved to %s for someone to look at",
            self.name,
            path,
            why,
            target,
        )
        return target


def _link_new(temp: Path, final: Path) -> bool:
    """Put ``temp`` in place as ``final`` unless ``final`` exists (atomic where the file
    system has hard links; a rename after a check elsewhere)."""
    try:
        os.link(temp, final)
        return True
    except FileExistsError:
        return False
    except OSError:
        if final.exists():
            return False
        os.replace(temp, final)
        return True


def _sync_dir(folder: Path) -> None:
    """``fsync`` a directory, so a file created, renamed or removed in it stays so."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
