"""Resident memory of ``contact-gateway serve`` with a large policy loaded.

The policy is ``bench/make_policy.py``'s, at 100,000 customers and 10,000 restrictions
by default, with every restriction made active now (authorised, started 30 days ago, no
end), imported with ``contact-gateway rules import`` into a new SQLite database. It is
written as JSON, which is YAML and goes through the same parse and checks: PyYAML's
pure-Python emitter alone takes half a minute at this size.

Then ``contact-gateway serve`` runs on that database (start-up loads the policy to
rebuild the usage counters), and once ``/readyz`` answers, one email from a restricted
customer and one from a stranger go through its SMTP listener, so the policy has served
real contact. VmRSS and VmHWM (peak) are read from ``/proc/<pid>/status``.

Baseline, in the same run: the same command, on an empty database, after the same two
emails. Prints one line of JSON; the target is at most 200 MB.

Run: ``python bench/memory.py [--customers 100000] [--restrictions 10000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from make_policy import make_policy

from rules.models import Policy, Status

EXE = str(Path(sys.executable).parent / "contact-gateway")
TARGET_MB = 200
STAFF = "housing@example.org"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def active_policy(customers: int, restrictions: int) -> Policy:
    """The generated policy with every restriction in force now (the worst case)."""
    policy = make_policy(customers, restrictions, seed=1)
    now = datetime.now(UTC)
    active = [
        r.model_copy(
            update={
                "status": Status.ACTIVE,
                "authorised_by": r.authorised_by or "director.b",
                "starts": now - timedelta(days=30),
                "ends": None,
                "review_on": (now + timedelta(days=150)).date(),
            }
        )
        for r in policy.restrictions
    ]
    return policy.model_copy(update={"restrictions": active})


def _pruned(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _pruned(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def write_policy(policy: Policy, path: Path) -> None:
    """The SPEC §3 layout, as JSON (a subset of YAML)."""
    data = {
        name: [_pruned(item.model_dump(mode="json")) for item in getattr(policy, name)]
        for name in ("officers", "customers", "restrictions")
    }
    path.write_text(json.dumps(data))


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}


def rules_import(path: Path, url: str) -> float:
    env = {**clean_env(), "GATEWAY_DATABASE_URL": url}
    started = time.perf_counter()
    done = subprocess.run(
        [EXE, "rules", "import", str(path)], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"rules import failed: {done.stderr.strip()[-2000:]}")
    return time.perf_counter() - started


def status_kb(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[name] = int(value.split()[0])
    return out


def wait_ready(process: subprocess.Popen[bytes], port: int, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers; readiness of the upstream is not the point here
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"serve did not answer /readyz within {limit:g} s")


def send(port: int, sender: str) -> str:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = STAFF
    mail["Subject"] = "About my repairs"
    mail["Message-ID"] = f"<memory-{time.time_ns()}@customers.example>"
    mail.set_content("Nobody has come to fix the boiler.\n")
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.send_message(mail)
    except smtplib.SMTPResponseException as exc:
        return f"{exc.smtp_code} {exc.smtp_error!r}"
    return "250"


def measure_serve(workdir: Path, url: str, restricted_sender: str | None) -> dict[str, Any]:
    """Start serve on ``url``, send two emails, read its memory, stop it."""
    http, smtp = free_port(), free_port()
    env = {
        **clean_env(),
        "GATEWAY_DATABASE_URL": url,
        "GATEWAY_HTTP_PORT": str(http),
        "GATEWAY_SMTP_PORT": str(smtp),
        "GATEWAY_SMTP_HOSTNAME": "gateway.test",
        "GATEWAY_UPSTREAM": f"maildir:{workdir / 'mail'}",
        "GATEWAY_ORG_DOMAINS": "example.org",
    }
    started = time.perf_counter()
    with (workdir / "serve.log").open("ab") as log:
        process = subprocess.Popen([EXE, "serve"], env=env, stdout=log, stderr=log)
    try:
        wait_ready(process, http, limit=600)
        ready_s = time.perf_counter() - started
        replies = {"stranger": send(smtp, "someone@elsewhere.example")}
        if restricted_sender:
            replies["restricted"] = send(smtp, restricted_sender)
        time.sleep(1.0)
        memory = status_kb(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return {
        "rss_mb": round(memory["VmRSS"] / 1024, 1),
        "peak_rss_mb": round(memory["VmHWM"] / 1024, 1),
        "ready_s": round(ready_s, 1),
        "smtp_replies": replies,
    }


def main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-memory-", dir="/var/tmp") as tmp:
        work = Path(tmp)
        print("memory: idle serve on an empty database", file=sys.stderr)
        baseline = measure_serve(work, f"sqlite+aiosqlite:///{work / 'empty.db'}", None)
        print(
            f"memory: policy of {args.customers:,} customers, {args.restrictions:,} restrictions",
            file=sys.stderr,
        )
        started = time.perf_counter()
        policy = active_policy(args.customers, args.restrictions)
        path = work / "policy.yaml"
        write_policy(policy, path)
        generate_s = time.perf_counter() - started
        url = f"sqlite+aiosqlite:///{work / 'gateway.db'}"
        import_s = rules_import(path, url)
        owner = policy.restrictions[0].customer
        customer = next(c for c in policy.customers if c.id == owner)
        sender = customer.emails[0] if customer.emails else None
        print("memory: serve with the policy loaded", file=sys.stderr)
        loaded = measure_serve(work, url, sender)
        file_mb = path.stat().st_size / 2**20
    return {
        "bench": "memory",
        "customers": args.customers,
        "restrictions": args.restrictions,
        "active_restrictions": sum(1 for r in policy.restrictions if r.status is Status.ACTIVE),
        "policy_file_mb": round(file_mb, 1),
        "policy_generate_s": round(generate_s, 1),
        "rules_import_s": round(import_s, 1),
        "loaded": loaded,
        "baseline_empty": baseline,
        "rss_mb": loaded["rss_mb"],
        "baseline_rss_mb": baseline["rss_mb"],
        "policy_mb": round(loaded["rss_mb"] - baseline["rss_mb"], 1),
        "target_mb": TARGET_MB,
    }


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--restrictions", type=int, default=10_000)
    print(json.dumps(main(parser.parse_args())), flush=True)


if __name__ == "__main__":
    sys.exit(cli())
