"""Settings from ``GATEWAY_*`` environment variables and an optional ``.env`` file.

One ``Settings`` object is built at start-up (never at import) and passed down. The
variable names are those of SPEC §2; nested groups (HTTP, SMTP, database, Redis, Twilio)
are read from ``GATEWAY_<GROUP>_<FIELD>``. A bad value stops start-up with a message
naming the variable, because an IT administrator reads the message, not the code.
"""

from __future__ import annotations

import re
import ssl
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from rules.identity import IdentityError, normalise_email, normalise_phone
from rules.protected import ProtectedRoutes, RouteName

ProxyNetwork = IPv4Network | IPv6Network

# GATEWAY_UPSTREAM's SMTP forms: plain (a relay on the organisation's own network), or
# encrypted, by STARTTLS (required, never skipped) or from the first byte (port 465).
UPSTREAM_SCHEMES = ("smtp", "smtp+starttls", "smtps")
TLS_UPSTREAMS = ("smtp+starttls://", "smtps://")


class HttpSettings(BaseModel):
    """The HTTP listener (``GATEWAY_HTTP_*``): Twilio webhooks, the admin API and UI.

    ``trusted_proxies`` lists the reverse proxies (addresses or networks) in front of the
    gateway. A request from one of them is taken to come from the right-most address in
    its ``X-Forwarded-For`` that is not itself a listed proxy; from anyone else the
    header is ignored, so a client cannot choose the address it is counted under (the
    sign-in limits count failures per client address).
    """

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    trusted_proxies: Annotated[tuple[ProxyNetwork, ...], NoDecode] = ()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: Any) -> Any:
        items = value.replace(",", " ").split() if isinstance(value, str) else value
        networks = []
        for item in items:
            if isinstance(item, IPv4Network | IPv6Network):
                networks.append(item)
                continue
            try:
                networks.append(ip_network(str(item).strip()))
            except ValueError as exc:
                raise ValueError(
                    f"'{item}' is not an address or network like 10.0.0.5, 10.0.0.0/24 or "
                    f"fd00::/8 ({exc})"
                ) from None
        return tuple(networks)


class SmtpSettings(BaseModel):
    """The SMTP listener and the mail queue behind it (``GATEWAY_SMTP_*``).

    Defaults follow what mail administrators expect of an MTA: 100 recipients per
    message (the RFC 5321 minimum a server must accept), a five-day queue lifetime
    (Postfix's ``maximal_queue_lifetime``), 30 ``Received:`` headers before a message is
    treated as looping.
    """

    host: str = "127.0.0.1"
    port: int = Field(default=2525, ge=0, le=65535)
    max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    hostname: str = ""  # in the banner and Received: headers; empty: this machine's FQDN
    max_recipients: int = Field(default=100, ge=1, le=10_000)
    max_received: int = Field(default=30, ge=2, le=1000)
    command_limit: int = Field(default=1000, ge=10)
    session_timeout: float = Field(default=600.0, gt=0)
    # How long a sender waits for the upstream before its message is queued instead
    # (the relay goes on; see gateway.mail.sink), and the upstream's time for each
    # command before the end of the message. Well inside the 10 minutes a sending
    # server waits for the gateway's own reply (RFC 5321 §4.5.3.2.6).
    relay_timeout: float = Field(default=60.0, gt=0, le=300)
    queue_lifetime: timedelta = timedelta(days=5)
    tls_cert: Path | None = None
    tls_key: Path | None = Field(default=None, validate_default=True)  # checks the pair
    trusted_authserv_id: str = ""
    # The login at the upstream (GATEWAY_UPSTREAM smtps:// or smtp+starttls:// only: a
    # password never crosses the network in the clear), and the certificate authorities
    # its certificate is checked against (empty: the system's).
    upstream_username: str = ""
    upstream_password: SecretStr = SecretStr("")
    upstream_ca_file: Path | None = None

    @field_validator("upstream_ca_file", mode="before")
    @classmethod
    def _no_ca_file(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("upstream_ca_file")
    @classmethod
    def _ca_loads(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                ssl.create_default_context(cafile=value)
            except (ssl.SSLError, OSError) as exc:
                raise ValueError(
                    f"'{value}' is not a readable PEM file of certificates: {exc}"
                ) from None
        return value

    @field_validator("tls_cert", "tls_key", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("tls_cert", "tls_key")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"'{value}' is not a readable file")
        return value

    @field_validator("tls_key")
    @classmethod
    def _pair(cls, key: Path | None, info: ValidationInfo) -> Path | None:
        cert = info.data.get("tls_cert")
        if (cert is None) != (key is None):
            raise ValueError(
                "GATEWAY_SMTP_TLS_CERT and GATEWAY_SMTP_TLS_KEY are needed together for STARTTLS"
            )
        if cert is not None and key is not None:
            try:
                ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
            except (ssl.SSLError, OSError) as exc:
                raise ValueError(
                    f"the certificate {cert} and key {key} do not load: {exc}"
                ) from None
        return key

    @field_validator("queue_lifetime")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("the queue lifetime must be longer than zero, e.g. P5D")
        return value

    @field_validator("trusted_authserv_id")
    @classmethod
    def _authserv(cls, value: str) -> str:
        value = value.strip()
        if any(c.isspace() or c == ";" for c in value):
            raise ValueError(f"'{value}' is not an authserv-id like mx.example.org")
        return value


class DatabaseSettings(BaseModel):
    url: str = "sqlite+aiosqlite:///./var/gateway.db"

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                f"'{value}' is not supported: use sqlite+aiosqlite:///path/to/file.db or "
                "postgresql+asyncpg://user@host/dbname"
            )
        return value


class RedisSettings(BaseModel):
    """The shared Redis (``GATEWAY_REDIS_*``): counters and rule-change fan-out.

    ``prefix`` starts every key the gateway writes and the name of its pub/sub channel,
    so several deployments can share one Redis (channels are global to a Redis, whatever
    the database number in the URL).

    ``timeout_ms`` bounds a contact's wait for Redis (connecting included): Redis answers
    in well under a millisecond, and a contact must not wait on one that does not; past
    it the gateway counts locally (see gateway.counters.shared). Time the event loop was
    too busy to read the answer does not count (gateway.ops.loop_lag), up to a second.
    """

    url: str = ""
    timeout_ms: int = 50
    prefix: str = "cg"

    @field_validator("url")
    @classmethod
    def _redis(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"'{value}' is not a Redis URL (redis://host:port/db)")
        return value

    @field_validator("timeout_ms")
    @classmethod
    def _timeout(cls, value: int) -> int:
        if not 1 <= value <= 5000:
            raise ValueError(
                f"{value} is not a timeout in milliseconds between 1 and 5000 "
                "(tens of milliseconds suit a Redis on the same network, e.g. 50)"
            )
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        # Braces would change the customer's hash tag (one cluster slot per customer);
        # spaces make keys awkward to name in redis-cli and in a shell.
        if not value or any(c.isspace() or c in "{}" for c in value):
            raise ValueError(
                f"'{value}' is not a key prefix: it must be non-empty, without spaces or "
                "braces (e.g. cg, or cg-housing to share a Redis with another gateway)"
            )
        return value

    @property
    def timeout_s(self) -> float:
        return self.timeout_ms / 1000


class TwilioSettings(BaseModel):
    """Twilio webhooks (signature token) and the REST client for forwarding texts.

    Field order matters: ``account_sid`` is checked against ``forward_sms``, which must
    be read first, so the error names the variable that is actually missing.
    """

    auth_token: SecretStr = SecretStr("")
    forward_sms: bool = False
    account_sid: str = Field(default="", validate_default=True)
    from_number: str = ""
    routes: str = ""
    voice: str = "Polly.Amy"
    answer_timeout: float = Field(default=3.0, gt=0, le=10)

    @field_validator("account_sid")
    @classmethod
    def _account_sid(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        if value and not _ACCOUNT_SID.match(value):
            raise ValueError(f"'{value}' is not a Twilio account SID (AC and 32 hex digits)")
        if not value and info.data.get("forward_sms"):
            raise ValueError(
                "is empty, but GATEWAY_TWILIO_FORWARD_SMS is true and the REST client that "
                "forwards texts to officers signs in with the account SID and auth token"
            )
        return value

    @field_validator("from_number")
    @classmethod
    def _from_number(cls, value: str) -> str:
        if not value.strip():
            return ""
        if not value.strip().startswith("+"):
            raise ValueError(f"'{value}' must be written in E.164, like +441632960000")
        try:
            return normalise_phone(value, "GB")
        except IdentityError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("routes")
    @classmethod
    def _routes(cls, value: str) -> str:
        return ",".join(f"{k}={v}" for k, v in parse_routes(value).items())

    @property
    def route_map(self) -> dict[str, str]:
        """Twilio number -> the line its calls ring (see ``parse_routes``)."""
        return parse_routes(self.routes)


_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")


def parse_routes(text: str) -> dict[str, str]:
    """``+441632960000=+441632960100, ...`` -> {Twilio number: line that rings}.

    "The number dialled" is a Twilio number, and dialling it again from Twilio would
    loop straight back into this gateway, so each Twilio number may name the line its
    calls really go to (the switchboard, a SIP trunk's number). Numbers must be E.164.
    """
    routes: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        number, sep, target = item.partition("=")
        if not sep:
            raise ValueError(
                f"'{item.strip()}' is not TWILIO_NUMBER=LINE, like +441632960000=+441632960100"
            )
        pair = []
        for raw in (number, target):
            if not raw.strip().startswith("+"):
                raise ValueError(f"'{raw.strip()}' must be written in E.164, like +441632960000")
            try:
                pair.append(normalise_phone(raw, "GB"))
            except IdentityError as exc:
                raise ValueError(str(exc)) from None
        routes[pair[0]] = pair[1]
    return routes


class ProtectedSettings(BaseModel):
    """Protected routes (``GATEWAY_PROTECTED_*``): staff addresses and numbers that no
    restriction ever touches, each a comma-separated list of addresses and E.164 numbers.

    The first address of each route also receives its class of exempt contact wherever
    it was sent (an appeal written to the named officer goes to ``appeals``); a class
    whose route has no address goes to the named officer as before. ``head_of_service``
    receives a new complaint from a customer under no contact. ``other`` lists further
    routes that are simply left alone. The emergency number is always protected.
    """

    emergency_repairs: str = ""
    safeguarding: str = ""
    data_protection: str = ""
    appeals: str = ""
    complaints: str = ""
    head_of_service: str = ""
    other: str = ""

    @field_validator("*")
    @classmethod
    def _identities(cls, value: str) -> str:
        return ",".join(parse_identities(value))

    def routes(self, emergency_number: str = "") -> ProtectedRoutes:
        """The routes as the rules take them."""
        found = {RouteName(name): parse_identities(getattr(self, name)) for name in _ROUTE_FIELDS}
        return ProtectedRoutes.of(found, emergency_number)


_ROUTE_FIELDS = tuple(name.value for name in RouteName)


def parse_identities(text: str) -> tuple[str, ...]:
    """``appeals@example.org, +441632960999`` -> normalised addresses and numbers."""
    found: list[str] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            if "@" in item:
                found.append(normalise_email(item))
            elif item.startswith("+"):
                found.append(normalise_phone(item, "GB"))
            else:
                raise ValueError(
                    f"'{item}' is neither an email address nor a number in E.164 "
                    "(like +441632960000)"
                )
        except IdentityError as exc:
            raise ValueError(str(exc)) from None
    return tuple(dict.fromkeys(found))


class HeldSettings(BaseModel):
    """Reading held contact (``GATEWAY_HELD_*``): a person must read every held item.

    An item still unread ``read_within`` working days after it was held (bank holidays
    of the organisation's nation are not working days) is escalated once, by email
    through the mail upstream, to the named officer and ``escalate_to`` (a team
    address); the gateway looks for such items every ``check_every_s`` seconds.
    """

    read_within: int = Field(default=1, ge=1, le=30)
    escalate_to: str = ""
    check_every_s: float = Field(default=300.0, gt=0)

    @field_validator("escalate_to")
    @classmethod
    def _team(cls, value: str) -> str:
        return ",".join(parse_identities(value)) if value.strip() else ""


class RemindersSettings(BaseModel):
    """The daily reminder digest (``GATEWAY_REMINDERS_*``).

    Each officer and authoriser with an email address gets at most one digest a day of
    what is theirs, from ``send_hour`` o'clock local time (``GATEWAY_TIMEZONE``); the
    gateway looks every ``check_every_s`` seconds. ``enabled=false`` sends none.
    """

    enabled: bool = True
    send_hour: int = Field(default=7, ge=0, le=23)
    check_every_s: float = Field(default=300.0, gt=0)


class EvidenceSettings(BaseModel):
    """Signed checkpoints of the evidence log (``GATEWAY_EVIDENCE_*``).

    ``signing_key`` is the Ed25519 private key (PEM, readable by its owner only) that
    signs each checkpoint; without it no checkpoints are made. ``log_name`` is the
    checkpoint's origin and the key's name (default: ``<first org domain>/evidence``).
    A checkpoint is made every ``checkpoint_interval`` (ISO 8601, e.g. PT1H), once
    across all gateways, written to ``checkpoint_dir`` and emailed to ``witnesses``.
    """

    signing_key: Path | None = None
    log_name: str = ""
    checkpoint_interval: timedelta = timedelta(hours=1)
    checkpoint_dir: Path = Path("var/checkpoints")
    witnesses: str = ""

    @field_validator("signing_key", mode="before")
    @classmethod
    def _no_key(cls, value: Any) -> Any:
        return None if value is None or not str(value).strip() else value

    @field_validator("log_name")
    @classmethod
    def _log_name(cls, value: str) -> str:
        value = value.strip()
        if value and ("+" in value or any(c.isspace() for c in value)):
            raise ValueError(
                f"'{value}' is not a log name: no spaces and no '+' (e.g. "
                "housing.example.org/evidence)"
            )
        return value

    @field_validator("checkpoint_interval")
    @classmethod
    def _interval(cls, value: timedelta) -> timedelta:
        if value < timedelta(minutes=1) or value > timedelta(days=7):
            raise ValueError(
                "the checkpoint interval must be between a minute (PT1M) and a week (P7D), "
                "e.g. PT1H"
            )
        if timedelta(days=1) % value and value < timedelta(days=1):
            raise ValueError(
                "the checkpoint interval must divide a day evenly (e.g. PT15M, PT1H, PT6H), "
                "so every gateway agrees on where each interval starts"
            )
        return value

    @field_validator("checkpoint_dir", mode="before")
    @classmethod
    def _dir(cls, value: Any) -> Any:
        if isinstance(value, str | Path) and not str(value).strip():
            raise ValueError(
                "must name a directory for the checkpoint files, like ./var/checkpoints"
            )
        path = Path(str(value).strip())
        if path.exists() and not path.is_dir():
            raise ValueError(f"'{path}' exists and is not a directory")
        return path

    @field_validator("witnesses")
    @classmethod
    def _witnesses(cls, value: str) -> str:
        found = []
        for item in value.split(","):
            if not item.strip():
                continue
            try:
                found.append(normalise_email(item.strip()))
            except IdentityError as exc:
                raise ValueError(str(exc)) from None
        return ",".join(dict.fromkeys(found))

    @property
    def witness_addresses(self) -> tuple[str, ...]:
        return tuple(a for a in self.witnesses.split(",") if a)


class LetterSettings(BaseModel):
    """Letters to customers (``GATEWAY_LETTER_*``).

    ``templates``: a folder of the organisation's own letter templates; a file there
    replaces the shipped default of the same name (``decision.en.txt``). Every template
    is rendered with sample letters at start-up, and a mistake stops the gateway
    starting, naming the file and line. ``org_name`` and ``address`` (lines separated by
    ``|``) head each letter; ``sender`` is the From address of emailed letters, where a
    letter that cannot be delivered is returned (default ``letters@`` the first
    organisation domain).
    """

    templates: Path | None = None
    org_name: str = ""
    address: str = ""
    sender: str = ""

    @field_validator("templates")
    @classmethod
    def _folder(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"'{value}' is not a folder of letter templates")
        return value

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        value = value.strip()
        if value and "@" not in value:
            raise ValueError(f"'{value}' is not an email address")
        return value

    def address_lines(self) -> tuple[str, ...]:
        return tuple(line.strip() for line in self.address.split("|") if line.strip())


class Settings(BaseSettings):
    """Everything the gateway reads from its environment; defaults run on one machine."""

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
    )

    http: HttpSettings = HttpSettings()
    smtp: SmtpSettings = SmtpSettings()
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    twilio: TwilioSettings = TwilioSettings()
    protected: ProtectedSettings = ProtectedSettings()
    held: HeldSettings = HeldSettings()
    reminders: RemindersSettings = RemindersSettings()
    evidence: EvidenceSettings = EvidenceSettings()
    letter: LetterSettings = LetterSettings()
    exemption_phrases: Path | None = None
    # The trained model reads short messages no phrase matches (rules.exemption_model).
    exemption_model: bool = True
    upstream: str = "maildir:./var/mail"
    org_domains: Annotated[tuple[str, ...], NoDecode] = ("example.org",)
    timezone: str = "Europe/London"
    default_region: str = "GB"
    public_url: str = ""
    emergency_number: str = ""
    spool_dir: Path = Path("var/spool")
    log_format: str = "json"

    @field_validator("upstream")
    @classmethod
    def _upstream(cls, value: str) -> str:
        if value.startswith("maildir:") and len(value) > len("maildir:"):
            return value
        scheme = value.partition("://")[0]
        if scheme in UPSTREAM_SCHEMES:
            parts = urlsplit(value)
            try:
                port = parts.port
            except ValueError:
                port = None
            if "@" in parts.netloc:
                raise ValueError(
                    f"'{value}' has a login in it: write {scheme}://host:port and set "
                    "GATEWAY_SMTP_UPSTREAM_USERNAME and GATEWAY_SMTP_UPSTREAM_PASSWORD"
                )
            if parts.hostname and port and parts.path in ("", "/"):
                return value
        raise ValueError(
            f"'{value}' is neither maildir:PATH nor smtp://host:port, "
            "smtp+starttls://host:port or smtps://host:port"
        )

    @model_validator(mode="after")
    def _login_only_over_tls(self) -> Settings:
        if self.smtp.upstream_username and not self.upstream.startswith(TLS_UPSTREAMS):
            raise ValueError(
                "GATEWAY_SMTP_UPSTREAM_USERNAME is set but GATEWAY_UPSTREAM "
                f"({self.upstream}) is not encrypted: a login is only sent over "
                "smtps:// or smtp+starttls://"
            )
        if self.smtp.upstream_password.get_secret_value() and not self.smtp.upstream_username:
            raise ValueError(
                "GATEWAY_SMTP_UPSTREAM_PASSWORD is set without GATEWAY_SMTP_UPSTREAM_USERNAME"
            )
        return self

    @field_validator("org_domains", mode="before")
    @classmethod
    def _domains(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [d.strip().lower() for d in value.split(",")]
        domains = tuple(d for d in value if d)
        if not domains:
            raise ValueError("at least one staff domain is needed, e.g. example.org")
        for domain in domains:
            if "." not in domain or "@" in domain or " " in domain:
                raise ValueError(f"'{domain}' is not a mail domain like example.org")
        return domains

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone like Europe/London") from None
        return value

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        value = value.upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"'{value}' is not a phone region code like GB")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        """The base URL as Twilio calls it, with no trailing slash (paths are appended)."""
        value = value.strip()
        if not value:
            return ""
        parsed = urlsplit(value)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(
                f"'{value}' is not a base URL like https://gateway.example.org (the address "
                "Twilio is given for the webhooks, without /twilio/...)"
            )
        if parsed.query or parsed.fragment:
            raise ValueError(f"'{value}' must not have a query or fragment")
        return value.rstrip("/")

    @field_validator("emergency_number")
    @classmethod
    def _emergency(cls, value: str, info: Any) -> str:
        if not value:
            return ""
        region = info.data.get("default_region", "GB")
        try:
            return normalise_phone(value, region)
        except IdentityError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("exemption_phrases", mode="before")
    @classmethod
    def _phrases_path(cls, value: Any) -> Any:
        return None if value is None or not str(value).strip() else value

    @field_validator("exemption_phrases")
    @classmethod
    def _phrases(cls, value: Path | None) -> Path | None:
        """The organisation's phrase file is read and checked whole at start-up: a bad
        line stops the gateway with the line named, and nothing half-applied runs."""
        if value is None:
            return None
        from gateway.config.exemption_phrases import PhraseFileError, read_phrase_file

        try:
            read_phrase_file(value)
        except PhraseFileError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in ("json", "text"):
            raise ValueError(f"'{value}' is neither json (one object per line) nor text")
        return value

    @field_validator("spool_dir", mode="before")
    @classmethod
    def _spool_dir(cls, value: Any) -> Any:
        """Where texts and calls' incidents wait while the database is down (gateway.spool.maildir):
        a directory, or a place one can be made. Whether it can be written is checked at
        start-up."""
        if isinstance(value, str | Path) and not str(value).strip():
            raise ValueError(
                "must name a directory for the spool (texts and calls kept while the "
                "database is down), like ./var/spool"
            )
        path = Path(str(value).strip())
        if path.exists() and not path.is_dir():
            raise ValueError(f"'{path}' exists and is not a directory")
        for parent in path.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise ValueError(f"'{parent}' is not a directory, so '{path}' cannot be one")
                break
        return path

    @property
    def evidence_log_name(self) -> str:
        """The checkpoints' origin and key name: as set, or ``<first org domain>/evidence``."""
        return self.evidence.log_name or f"{self.org_domains[0]}/evidence"

    @property
    def letter_org_name(self) -> str:
        return self.letter.org_name or self.org_domains[0]

    @property
    def letter_sender(self) -> str:
        return self.letter.sender or f"letters@{self.org_domains[0]}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def var_dir(self) -> Path:
        """Where local state lives when the defaults are used (the SQLite file, Maildirs)."""
        return Path("var")


class SettingsError(Exception):
    """Start-up settings are wrong; the message names each variable."""


def env_name(loc: tuple[str | int, ...]) -> str:
    """``('smtp', 'port')`` -> ``GATEWAY_SMTP_PORT``."""
    return "GATEWAY_" + "_".join(str(part) for part in loc).upper()


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning validation errors into one message naming each variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            if not error["loc"]:
                # A check across settings: its message names the variables, and the
                # input is every setting, secrets included, so it is not shown.
                lines.append(message)
                continue
            name = env_name(error["loc"])
            secret = "TOKEN" in name or "PASSWORD" in name
            shown = "" if secret else f" (got {error.get('input')!r})"
            lines.append(f"{name}: {message}{shown}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
