"""What the checkpoint tests share: a signing key, settings that use it, the CLI and
the independent verifier run as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from gateway.chain.signing_key import create_key_file, verifier_key_for
from gateway.config.settings import Settings

EXE = str(Path(sys.executable).parent / "contact-gateway")
VERIFY_EXPORT = Path(__file__).resolve().parents[3] / "docs" / "verify_export.py"
LOG_NAME = "housing.example.org/evidence"


def new_key(path: Path) -> str:
    """A key file at ``path``; its verifier key (what the organisation publishes)."""
    return verifier_key_for(LOG_NAME, create_key_file(path)).text()


def checkpoint_settings(database_url: str, tmp_path: Path, key: Path, **more: Any) -> Settings:
    values: dict[str, Any] = {
        "database": {"url": database_url},
        "org_domains": ("example.org",),
        "evidence": {
            "signing_key": key,
            "log_name": LOG_NAME,
            "checkpoint_dir": tmp_path / "checkpoints",
            **more.pop("evidence", {}),
        },
        **more,
    }
    return Settings(**values)


def cli(
    settings: Settings, *args: str, key: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``contact-gateway ARGS`` with these settings (``key`` instead of theirs)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["GATEWAY_DATABASE_URL"] = settings.database.url
    env["GATEWAY_EVIDENCE_SIGNING_KEY"] = str(key or settings.evidence.signing_key)
    env["GATEWAY_EVIDENCE_LOG_NAME"] = settings.evidence_log_name
    env["GATEWAY_EVIDENCE_CHECKPOINT_DIR"] = str(settings.evidence.checkpoint_dir)
    return subprocess.run(
        [EXE, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def verify_export(export: Path, vkey: str) -> subprocess.CompletedProcess[str]:
    """The independent verifier, run as an adviser would: its own process, no gateway."""
    env = {"PATH": os.environ.get("PATH", "")}
    return subprocess.run(
        [sys.executable, "-I", str(VERIFY_EXPORT), str(export), vkey],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        cwd=export.parent,
    )
