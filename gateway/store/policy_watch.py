"""Knowing, without a query, that this process has changed the policy.

The contact service must see a rules change at the very next contact, but reading the
policy version from the database for every contact costs more than deciding it. Every
change to the policy bumps ``policy_meta.policy_version`` with an UPDATE; this watch
marks a connection that ran one, and counts it when the connection goes back to the
pool (after its transaction has ended), so ``generation`` moves as soon as a change
made in this process is visible to readers. Changes made by other processes are found
by re-reading the version at most a moment later (see ``ContactService.policy``), or
sooner when a listener (the Redis fan-out, ``gateway.policy.fanout``) tells them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Update, event
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.schema import policy_meta

_MARK = "gateway_policy_changed"
log = logging.getLogger(__name__)


class PolicyWatch:
    """A counter of committed-or-ended transactions that updated the policy version."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.generation = 0
        self.listeners: list[Callable[[int], None]] = []
        sync = engine.sync_engine

        @event.listens_for(sync, "after_execute")
        def _mark(conn: Any, clause: Any, *args: Any) -> None:
            if isinstance(clause, Update) and clause.table is policy_meta:
                conn.info[_MARK] = True

        @event.listens_for(sync.pool, "checkin")
        def _count(dbapi_connection: Any, record: Any) -> None:
            if record is not None and record.info.pop(_MARK, False):
                self._moved()

        @event.listens_for(sync.pool, "invalidate")
        def _lost(dbapi_connection: Any, record: Any, exception: Any) -> None:
            if record is not None and record.info.pop(_MARK, False):
                self._moved()

    def _moved(self) -> None:
        self.generation += 1
        for listener in list(self.listeners):
            try:
                listener(self.generation)
            except Exception:  # a listener must never break returning a connection
                log.exception("a policy-change listener failed")
