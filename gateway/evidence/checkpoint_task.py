"""Signing a checkpoint of the evidence log every ``GATEWAY_EVIDENCE_CHECKPOINT_INTERVAL``
while the app runs (``gateway.evidence.checkpoints`` says how, and how only one gateway
of several makes each interval's).

Without a signing key the gateway still runs, with one warning line and no checkpoints:
it carries contact that must get through (emergency repairs, safeguarding), and a gap
in checkpoints is closed by the next one, which covers every record before it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from functools import partial

from aiohttp import web

from gateway.chain.signing_key import SigningKeyError
from gateway.common.background import Passes, running
from gateway.common.clock import Clock
from gateway.config.settings import Settings
from gateway.evidence.checkpoints import (
    Checkpointer,
    CheckpointRefused,
    checkpointer_for,
    next_period_start,
    scheduled_checkpoint,
)
from gateway.store import Store, StoreError

log = logging.getLogger(__name__)

CHECKPOINTER = web.AppKey("checkpointer", Checkpointer)
# However long the interval, look again at least this often (a clock that jumped, a
# database that was away when the interval began).
MAX_WAIT_S = 300.0


def add_checkpoints(
    app: web.Application,
    settings: Settings,
    clock: Clock,
    *,
    store_key: web.AppKey[Store],
    wake: Callable[[web.Application], None],
) -> None:
    """Make each interval's checkpoint while ``app`` runs (when a key is configured)."""

    async def checkpoint_lifecycle(app: web.Application) -> AsyncIterator[None]:
        try:
            checkpointer = checkpointer_for(settings, app[store_key], lambda: wake(app))
        except SigningKeyError as exc:
            log.warning("no evidence checkpoints will be made: %s", exc)
            checkpointer = None
        if checkpointer is None:
            if settings.evidence.signing_key is None:
                log.warning(
                    "no evidence checkpoints will be made: GATEWAY_EVIDENCE_SIGNING_KEY is "
                    "not set (create a key with 'contact-gateway evidence key new')"
                )
            yield
            return
        app[CHECKPOINTER] = checkpointer
        async with running(partial(_passes, checkpointer, clock), "evidence-checkpoints"):
            yield

    app.cleanup_ctx.append(checkpoint_lifecycle)


async def _passes(checkpointer: Checkpointer, clock: Clock, passes: Passes) -> None:
    """A pass now and at the start of every interval, until stopped; a failed pass is
    logged and tried again at the next wake-up."""
    interval = checkpointer.settings.evidence.checkpoint_interval
    while not passes.stopping:
        now = clock()
        try:
            await scheduled_checkpoint(checkpointer, now)
        except CheckpointRefused as exc:
            log.error("%s", exc)
        except StoreError as exc:  # the database is away; the next pass will do it
            log.warning("could not make the evidence checkpoint: %s", exc)
        except Exception:
            log.exception("making the evidence checkpoint failed; trying again later")
        wait = (next_period_start(now, interval) - now).total_seconds()
        await passes.pause(min(max(wait, 1.0), MAX_WAIT_S))
