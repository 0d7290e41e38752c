"""Keeping the evidence's Merkle tree up with the records while the gateway runs.

Appending a record does not touch the tree (``gateway.store.tree``): that keeps the
evidence appender at its pace. Instead, every ``EXTEND_EVERY_S`` seconds each gateway
adds whatever records have arrived since; gateways sharing a database may do so at
once, harmlessly (insert-or-ignore). Whatever needs the tree up to date (a proof, a
checkpoint) extends it first, so this only keeps that quick.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from gateway.common.background import Loop, every, running
from gateway.store import Store, StoreError

log = logging.getLogger(__name__)

# A few seconds: at 5,000 records a second that is some thousands of records a pass,
# a few batches of ``tree.EXTEND_BATCH``, each a short write.
EXTEND_EVERY_S = 5.0


def add_tree_upkeep(app: web.Application, *, store_key: web.AppKey[Store]) -> None:
    """Extend the evidence tree every ``EXTEND_EVERY_S`` seconds while ``app`` runs."""

    async def tree_lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with running(extending(app[store_key]), "evidence-tree"):
            yield

    app.cleanup_ctx.append(tree_lifecycle)


def extending(store: Store) -> Loop:
    """A pass every ``EXTEND_EVERY_S`` seconds until stopped; a failed pass is logged
    and tried again (a tree that was tampered with keeps failing, loudly, until someone
    runs ``contact-gateway evidence verify``)."""
    return every(
        lambda: EXTEND_EVERY_S,
        store.extend_tree,
        log=log,
        could_not="extend the evidence tree",
        failing="extending the evidence tree",
        passing=(StoreError,),
    )
