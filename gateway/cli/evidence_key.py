"""``contact-gateway evidence key new|show``: the key that signs the log's checkpoints.

``new`` writes an Ed25519 private key (PEM, mode 0600, never over an existing file) and
prints its verifier key; ``show`` prints the verifier key of the configured key. The
verifier key is what the organisation publishes (on its website, in its letters to the
ombudsman) so that anyone can check a checkpoint or an export was signed by it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.chain.checkpoint import VerifierKey
from gateway.chain.signing_key import (
    SigningKeyError,
    create_key_file,
    load_signing_key,
    verifier_key_for,
)
from gateway.cli.failed import CommandFailed
from gateway.config.settings import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.key_command == "new":
        return key_new(settings, args.output)
    return key_show(settings)


def key_new(settings: Settings, output: Path | None) -> int:
    path = output or settings.evidence.signing_key
    if path is None:
        raise CommandFailed(
            "say where to write the key: --output FILE, or set GATEWAY_EVIDENCE_SIGNING_KEY"
        )
    try:
        key = create_key_file(path)
    except SigningKeyError as exc:
        raise CommandFailed(str(exc)) from None
    print(verifier_key_for(settings.evidence_log_name, key).text())
    print(
        f"wrote the signing key to {path} (readable by you only; back it up somewhere "
        "safe). Publish the verifier key above; "
        + (
            ""
            if settings.evidence.signing_key == path
            else f"set GATEWAY_EVIDENCE_SIGNING_KEY={path} to sign checkpoints with it"
        ),
        file=sys.stderr,
    )
    return 0


def configured_verifier_key(settings: Settings) -> VerifierKey:
    """The public half of GATEWAY_EVIDENCE_SIGNING_KEY, or ``CommandFailed`` saying why not."""
    if settings.evidence.signing_key is None:
        raise CommandFailed(
            "no signing key is configured: set GATEWAY_EVIDENCE_SIGNING_KEY (create one "
            "with 'contact-gateway evidence key new --output FILE')"
        )
    try:
        key = load_signing_key(settings.evidence.signing_key)
    except SigningKeyError as exc:
        raise CommandFailed(str(exc)) from None
    return verifier_key_for(settings.evidence_log_name, key)


def key_show(settings: Settings) -> int:
    print(configured_verifier_key(settings).text())
    return 0
