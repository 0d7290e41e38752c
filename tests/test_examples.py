"""The README's five-minute tour, run as the README writes it, on examples/policy.yaml.

The commands are read from the README's tour section, not copied here, so the tour cannot
drift from what the suite checks. They run in a temporary folder laid out like a clone
(``examples/policy.yaml`` and a ``.venv/bin`` holding this environment's
``contact-gateway`` and ``python``), with free ports in place of the README's 2525 and
8080. The gateway is a real ``contact-gateway serve`` process on its embedded defaults:
SQLite in ``./var`` and delivered mail in Maildirs under ``./var/mail``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from tests.gateway.mail_support import free_port

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
PASSWORD = "a long enough password"
START_TIMEOUT_S = 60.0


def tour_blocks() -> list[tuple[str, str]]:
    """The fenced blocks of the README's tour, in order: (language, text)."""
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## A five-minute tour\n")
    end = text.index("\n## ", start + 1)
    return [
        (lang, body)
        for lang, body in re.findall(r"^```(\w*)\n(.*?)^```$", text[start:end], re.M | re.S)
    ]


def tour_text() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## A five-minute tour\n")
    return text[start : text.index("\n## ", start + 1)]


@dataclass
class Clone:
    """A folder laid out like a clone after the README's set-up, and the tour's state."""

    folder: Path
    smtp_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    exported: dict[str, str] = field(default_factory=dict)
    serve: subprocess.Popen[bytes] | None = None

    def local(self, text: str) -> str:
        """The README's text with this run's ports for the defaults."""
        return text.replace("8080", str(self.http_port)).replace("2525", str(self.smtp_port))

    def env(self) -> dict[str, str]:
        values = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        values["GATEWAY_HTTP_PORT"] = str(self.http_port)
        values["GATEWAY_SMTP_PORT"] = str(self.smtp_port)
        values.update(self.exported)
        return values

    def shell(self, line: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """One line of the README in bash, in the clone (no terminal: a password prompt
        reads standard input)."""
        return subprocess.run(
            ["bash", "-c", self.local(line)],
            cwd=self.folder,
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            start_new_session=True,
        )

    def start(self, line: str) -> None:
        """``... serve ... &``: the gateway in the background, until the tour ends."""
        command = "exec " + self.local(line).removesuffix("&").strip()
        self.serve = subprocess.Popen(["bash", "-c", command], cwd=self.folder, env=self.env())
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.serve.poll() is None, f"serve exited:\n{self.log()}"
            if self._answers():
                return
            time.sleep(0.2)
        pytest.fail(f"serve never answered:\n{self.log()}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url("/healthz"), timeout=2) as response:
                healthy = bool(response.status == 200)
        except OSError:
            return False
        try:
            with socket.create_connection(("127.0.0.1", self.smtp_port), timeout=2) as smtp:
                return healthy and smtp.recv(64).startswith(b"220")
        except OSError:
            return False

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http_port}{path}"

    def log(self) -> str:
        log = self.folder / "var" / "gateway.log"
        return log.read_text(errors="replace")[-4000:] if log.exists() else ""

    def stop(self) -> None:
        if self.serve is not None and self.serve.poll() is None:
            self.serve.terminate()
            try:
                self.serve.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.serve.kill()
                self.serve.wait()


@pytest.fixture
def clone(tmp_path: Path) -> Iterator[Clone]:
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "policy.yaml", tmp_path / "examples" / "policy.yaml")
    venv_bin = tmp_path / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "contact-gateway").symlink_to(BIN / "contact-gateway")
    (venv_bin / "python").symlink_to(sys.executable)
    found = Clone(tmp_path)
    try:
        yield found
    finally:
        found.stop()


def sign_in(clone: Clone, name: str) -> urllib.request.OpenerDirector:
    """Sign in through the sign-in page as a browser would (its form token included)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    with opener.open(clone.url("/admin"), timeout=10) as response:
        assert response.status == 200
        assert response.url == clone.url("/admin/login?next=%2Fadmin")
        page = response.read().decode()
    assert "<h1>Sign in</h1>" in page
    token = re.search(r'name="login_token" value="([^"]+)"', page)
    assert token is not None, page
    form = {"login_token": token.group(1), "next": "/admin", "name": name, "password": PASSWORD}
    with opener.open(
        clone.url("/admin/login"), data=urllib.parse.urlencode(form).encode(), timeout=10
    ) as response:
        assert response.status == 200
        assert response.url == clone.url("/admin")
        assert "<h1>Dashboard</h1>" in response.read().decode()
    return opener


@pytest.mark.slow
def test_the_readme_tour_works_as_written(clone: Clone) -> None:
    blocks = tour_blocks()
    python = [body for lang, body in blocks if lang == "python"]
    assert len(python) == 1, "the tour sends one email with smtplib"
    said = tour_text()
    seen: set[str] = set()

    for lang, body in blocks:
        if lang == "python":
            # 2. The email, as Alex, with smtplib: accepted for every recipient ...
            sent = subprocess.run(
                [sys.executable, "-c", clone.local(body)],
                cwd=clone.folder,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert sent.returncode == 0, sent.stderr + clone.log()
            assert sent.stdout == "{}\n"
            seen.add("email")
            continue
        if lang != "sh":
            continue
        for line in body.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            command = line.split("#")[0].strip()
            if command.startswith("export "):
                for pair in shlex.split(command.removeprefix("export ")):
                    name, _, value = pair.partition("=")
                    clone.exported[name] = clone.local(value)
            elif command.endswith("serve 2> var/gateway.log &"):
                clone.start(command)
                seen.add("serve")
            elif " rules import examples/policy.yaml" in command:
                # 1. The import: checked whole, then stored; its report is the README's.
                done = clone.shell(command)
                assert done.returncode == 0, done.stderr
                lines = done.stdout.splitlines()
                assert lines[:4] == [
                    "imported examples/policy.yaml (policy version 1):",
                    "  officers: 3 created, 0 updated, 0 unchanged",
                    "  customers: 5 created, 0 updated, 0 unchanged",
                    "  restrictions: 5 created, 0 updated, 0 unchanged",
                ]
                assert "\n".join(lines[:4]) in said
                assert lines[4].startswith("  the file's 5 restrictions: ")
                assert "1 draft" in lines[4]
                seen.add("import")
            elif command.startswith("grep '^X-Contact-Gateway'"):
                # ... and redirected to the named officer's Maildir, saying why.
                found = clone.shell(command)
                assert found.returncode == 0, found.stderr + clone.log()
                headers = found.stdout.splitlines()
                assert len(headers) == 4, found.stdout
                assert "X-Contact-Gateway-Restriction: R-2026-001" in headers
                assert "X-Contact-Gateway-Redirected-To: jane.smith@example.org" in headers
                for header in headers:
                    assert f"\n{header}\n" in said  # the README shows these very lines
                assert not (clone.folder / "var" / "mail" / "housing@example.org").exists()
                seen.add("maildir")
            elif " simulate call " in command:
                # 3. The call, signed as Twilio signs it: answered with what is allowed.
                called = clone.shell(command)
                assert called.returncode == 0, called.stderr + clone.log()
                first, _, twiml = called.stdout.partition("\n")
                posted = re.escape(clone.url("/twilio/voice"))
                expected = rf"POST {posted} \(CA[0-9a-f]{{32}}\) -> HTTP 200"
                assert re.fullmatch(expected, first), first
                response = ET.fromstring(twiml)
                say = response.find("Say")
                assert say is not None and say.text is not None, twiml
                assert say.text.startswith(
                    "At present we cannot accept phone calls from you. You can contact us by "
                    "email to Jane Smith at jane.smith@example.org."
                )
                assert [child.tag for child in response] == ["Say", "Hangup"]
                assert "At present we cannot accept phone calls from" in said
                seen.add("call")
            elif " evidence verify" in command:
                verified = clone.shell(command)
                assert verified.returncode == 0, verified.stderr
                chain, tree = verified.stdout.splitlines()
                assert chain == "evidence chain verified: 2 records, head seq 2"
                assert chain in line  # the README's comment says so
                assert re.fullmatch(r"evidence tree: 2 records, root [0-9a-f]{64} \(.*\)", tree)
                assert "evidence tree: 2 records, root" in said
                seen.add("evidence")
            elif " users add " in command and "--password" in command:
                # 4. A user with a web password (asked twice), then the admin UI.
                added = clone.shell(command, stdin=f"{PASSWORD}\n{PASSWORD}\n")
                assert added.returncode == 0, added.stderr
                assert "created authoriser 'olivia'" in added.stdout
                assert re.search(r"^token: cgw_\S+$", added.stdout, re.M), added.stdout
                opener = sign_in(clone, "olivia")
                with opener.open(clone.url("/admin/customers/C-1001"), timeout=10) as page:
                    customer = page.read().decode()
                assert "Alex Example" in customer and "R-2026-001" in customer
                with opener.open(clone.url("/admin/restrictions/R-2026-005"), timeout=10) as page:
                    assert "draft" in page.read().decode()
                seen.add("ui")
            else:
                pytest.fail(f"the test does not know the tour's command {line!r}")

    assert seen == {"import", "serve", "email", "maildir", "call", "evidence", "ui"}


def test_the_example_policy_is_valid_and_complete(tmp_path: Path) -> None:
    """``--dry-run`` accepts the file, and it shows every kind of handling."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    policy = str(ROOT / "examples" / "policy.yaml")
    done = subprocess.run(
        [str(BIN / "contact-gateway"), "rules", "import", policy, "--dry-run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "is valid: 3 officers, 5 customers, 5 restrictions:" in done.stdout
    assert "(dry run: nothing written)" in done.stdout
    text = (ROOT / "examples" / "policy.yaml").read_text(encoding="utf-8")
    for handling in ("deliver", "read_and_file", "representative_only"):
        assert f"handling: {handling}\n" in text
    for clause in ("call_windows:", "call_time_limit:", "limits:", "representatives:"):
        assert clause in text
