"""The ``contact-gateway`` command line: every command and option, and nothing else.

Kept apart from the commands themselves, which import the whole service, so that
parsing the command line (and ``--help``) costs nothing, and each command imports only
what it uses: ``evidence verify`` on a long chain should not spend a second loading
the web application first.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rules.roles import Role


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contact-gateway",
        description="Enforce contact restrictions on inbound email, SMS and calls.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("serve", help="run the gateway (HTTP and SMTP listeners)")

    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="apply database migrations")

    rules = sub.add_parser("rules", help="import or export the policy (YAML)")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)
    imp = rules_sub.add_parser("import", help="validate a policy file and upsert it by id")
    imp.add_argument("file", type=Path)
    imp.add_argument("--actor", default="cli", help="who is importing, for the audit log")
    imp.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
    exp = rules_sub.add_parser("export", help="write the whole policy as YAML")
    exp.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")

    explain = sub.add_parser("explain", help="show the decision for a hypothetical contact")
    explain.add_argument("--channel", required=True, choices=["email", "sms", "voice"])
    explain.add_argument("--from", dest="sender", required=True, help="address or number")
    explain.add_argument("--to", dest="recipient", required=True, help="staff address or number")
    explain.add_argument("--at", help="ISO 8601 instant, e.g. 2026-11-24T10:30:00Z (default: now)")
    explain.add_argument("--text", default="", help="message text, for exemptions")
    explain.add_argument(
        "--emergency", action="store_true", help="caller pressed the emergency option"
    )
    explain.add_argument("--json", action="store_true", help="print JSON")

    exemptions = sub.add_parser("exemptions", help="the exemption classifier")
    ex_sub = exemptions.add_subparsers(dest="exemptions_command", required=True)
    check = ex_sub.add_parser(
        "check", help="which exemption class a text falls in, and on which words"
    )
    check.add_argument("text", help="the message text (an email's subject and body)")
    check.add_argument("--json", action="store_true", help="print JSON")

    evidence = sub.add_parser("evidence", help="the evidence log")
    ev_sub = evidence.add_subparsers(dest="evidence_command", required=True)
    ev_verify = ev_sub.add_parser(
        "verify", help="check the whole hash chain (and that it extends signed checkpoints)"
    )
    ev_verify.add_argument(
        "--checkpoint",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="signed checkpoints kept outside (witnesses' copies): prove the log still "
        "extends every one",
    )
    ev_verify.add_argument(
        "--key",
        metavar="VKEY",
        help="the published verifier key (name+id+key), or a file holding it "
        "(default: the public half of GATEWAY_EVIDENCE_SIGNING_KEY)",
    )
    ev_sub.add_parser(
        "checkpoint", help="sign a checkpoint of the log now, write it and email the witnesses"
    )
    ev_key = ev_sub.add_parser("key", help="the key that signs checkpoints")
    key_sub = ev_key.add_subparsers(dest="key_command", required=True)
    key_new = key_sub.add_parser(
        "new", help="create a signing key (never overwrites) and print its verifier key"
    )
    key_new.add_argument(
        "-o",
        "--output",
        type=Path,
        help="where to write it (default: GATEWAY_EVIDENCE_SIGNING_KEY)",
    )
    key_sub.add_parser("show", help="print the verifier key to publish")
    ev_exp = ev_sub.add_parser("export", help="one customer's records with the chain proof")
    ev_exp.add_argument("--customer", required=True)
    ev_exp.add_argument("--format", choices=["csv", "json", "pdf"], default="json")
    ev_exp.add_argument("--actor", default="cli", help="who is exporting, for the audit log")
    ev_exp.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    _add_users(sub)
    _add_report(sub)
    _add_simulate(sub)
    return parser


def _add_users(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``users`` command and its subcommands."""
    users = sub.add_parser("users", help="API users and their tokens")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="create a user and print their API token once")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument(
        "--password", action="store_true", help="also set a web UI password (asked for, twice)"
    )
    users_sub.add_parser("list", help="list users and roles")
    for name, text in (
        ("disable", "disable a user (their token stops working)"),
        ("enable", "enable a disabled user"),
        ("rotate", "replace a user's token and print the new one once"),
    ):
        users_sub.add_parser(name, help=text).add_argument("name")
    users_sub.add_parser("password", help="set a web UI password (asked for, twice)").add_argument(
        "name"
    )


def _add_report(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser("report", help="restrictions, reviews and appeals for a quarter")
    report.add_argument("--quarter", help="e.g. 2026Q4 (default: this quarter)")
    report.add_argument("--format", choices=["text", "csv"], default="text")


def _add_simulate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``simulate`` and its subcommands to the CLI's subparsers."""
    simulate = sub.add_parser("simulate", help="sign and post a Twilio webhook, print the TwiML")
    flows = simulate.add_subparsers(dest="simulate_command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="where to send it (default: this gateway's HTTP listener)")
    common.add_argument("--from", dest="sender", required=True, help="the caller or texter")
    common.add_argument("--to", required=True, help="the organisation's number they used")
    call = flows.add_parser("call", parents=[common], help="an incoming call (/twilio/voice)")
    call.add_argument("--sid", help="CallSid (default: a new one; give it again to retry)")
    key = flows.add_parser("key", parents=[common], help="a key pressed at the menu")
    key.add_argument("--sid", required=True, help="the CallSid of the call")
    key.add_argument("--digits", default="1")
    sms = flows.add_parser("sms", parents=[common], help="an incoming text (/twilio/sms)")
    sms.add_argument("--sid", help="MessageSid (default: a new one; give it again to retry)")
    sms.add_argument("--body", required=True)
    status = flows.add_parser("status", parents=[common], help="a call's status callback")
    status.add_argument("--sid", required=True, help="the CallSid of the call")
    status.add_argument("--status", default="completed")
    status.add_argument("--duration", default="60", help="CallDuration in seconds")
