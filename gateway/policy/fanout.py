"""Rule changes reach every gateway within a second: Redis pub/sub.

A gateway that changes the policy (admin API, web UI, ``rules import``) publishes the
new version on ``<prefix>:policy`` as soon as the change is committed; every gateway
listens there and, on a message from another process, re-reads the policy version at
its next contact. The prefix is ``GATEWAY_REDIS_PREFIX`` (default ``cg``): pub/sub
channels are global to a Redis, whatever the database number, so gateways that share a
Redis but not a prefix do not hear each other. Pub/sub delivers at most once, so the
database stays the truth and the periodic version check stays as the safety net:

* while subscribed, each gateway still re-reads the version every
  ``POLICY_RECHECK_SUBSCRIBED_S`` (a change written by something that does not
  publish, such as hand-written SQL, arrives within that);
* while not subscribed (Redis down, reconnecting), every ``POLICY_RECHECK_S``
  (a quarter of a second), as without Redis;
* on each (re)subscription the version is re-read at once, for whatever was published
  while the subscription was down.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from gateway.config.settings import Settings
from gateway.counters.redis_client import redis_from_settings
from gateway.counters.redis_counter import DEFAULT_PREFIX
from gateway.decisions.service import POLICY_RECHECK_S, POLICY_RECHECK_SUBSCRIBED_S, ContactService
from gateway.store import Store, StoreError

log = logging.getLogger(__name__)


def policy_channel(prefix: str) -> str:
    """The channel of the gateways sharing the key prefix ``prefix``."""
    return f"{prefix}:policy"


POLICY_CHANNEL = policy_channel(DEFAULT_PREFIX)
RECONNECT_MIN_S = 0.2
RECONNECT_MAX_S = 5.0
# How long get_message waits before looking again; after how much quiet a PING checks
# the subscription, and after how much more it is given up as dead.
LISTEN_S = 1.0
PING_AFTER_S = 5.0
DEAD_AFTER_S = 8.0
# A failed publish is retried this long; after it the other gateways' safety net has
# re-read the version anyway.
PUBLISH_RETRY_S = 0.2


def policy_message(version: int, origin: str) -> str:
    return json.dumps({"version": version, "origin": origin})


async def announce_policy(settings: Settings, version: int) -> str | None:
    """Tell every gateway that the policy is now at ``version`` (from ``rules import``,
    a process of its own). None when told; otherwise why not (they then see it at their
    next periodic check, within POLICY_RECHECK_SUBSCRIBED_S)."""
    client = redis_from_settings(settings, patient=True)
    if client is None:
        return None
    try:
        channel = policy_channel(settings.redis.prefix)
        await client.publish(channel, policy_message(version, "cli"))
    except (RedisError, OSError) as exc:
        return (
            f"the running gateways could not be told at once ({exc}); they will see "
            f"the change within {POLICY_RECHECK_SUBSCRIBED_S:g} seconds"
        )
    finally:
        await client.aclose()
    return None


class PolicyFanout:
    """Publishes this process's policy changes and hears everyone else's."""

    def __init__(
        self,
        service: ContactService,
        store: Store,
        client: Redis,
        *,
        subscribed_recheck_s: float = POLICY_RECHECK_SUBSCRIBED_S,
        channel: str = POLICY_CHANNEL,
    ) -> None:
        self._service = service
        self._store = store
        self._client = client
        self._subscribed_recheck_s = subscribed_recheck_s
        self._channel = channel
        self._origin = secrets.token_hex(8)
        self._changed = asyncio.Event()
        self.subscribed = False
        self.heard = 0  # announcements from other processes, since start

    async def run(self) -> None:
        """Publish and listen until cancelled, reconnecting after Redis outages."""
        loop = asyncio.get_running_loop()

        def changed(generation: int) -> None:
            # Called by the store when a change is committed, possibly off the loop.
            loop.call_soon_threadsafe(self._changed.set)

        stop_watching = self._store.watch_policy(changed)
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._publish_forever())
                tasks.create_task(self._listen_forever())
        finally:
            stop_watching()
            self._service.set_policy_recheck(POLICY_RECHECK_S)

    async def _publish_forever(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            give_up = time.monotonic() + POLICY_RECHECK_SUBSCRIBED_S
            failure = await self._publish()
            if failure is not None:
                log.warning("could not announce a policy change yet: %s", failure)
            while failure is not None and not self._changed.is_set():
                if time.monotonic() > give_up:
                    log.warning("gave up announcing a policy change: %s", failure)
                    break
                await asyncio.sleep(PUBLISH_RETRY_S)
                failure = await self._publish()

    async def _publish(self) -> Exception | None:
        """Announce the current version; the error if that failed."""
        try:
            version = await self._store.policy_version()
            await self._client.publish(self._channel, policy_message(version, self._origin))
        except (RedisError, OSError, StoreError) as exc:
            return exc
        return None

    async def _listen_forever(self) -> None:
        delay = RECONNECT_MIN_S
        while True:
            try:
                async with self._client.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    await self._confirmed(pubsub)
                    delay = RECONNECT_MIN_S
                    self._set_subscribed(True)
                    await self._listen(pubsub)
            except (RedisError, OSError) as exc:
                if self.subscribed:
                    log.warning(
                        "policy fan-out lost Redis (%s); re-reading every %ss",
                        exc,
                        POLICY_RECHECK_S,
                    )
            finally:
                self._set_subscribed(False)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)

    async def _listen(self, pubsub: Any) -> None:
        """Hear announcements until the connection fails. A connection that dies
        silently (no reset, e.g. a network partition) is found out by a PING after
        PING_AFTER_S of quiet, unanswered for DEAD_AFTER_S."""
        quiet_since, pinged = time.monotonic(), False
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=LISTEN_S)
            now = time.monotonic()
            if message is not None:
                quiet_since, pinged = now, False
                if message.get("type") == "message":
                    self._heard(message)
            elif now - quiet_since > DEAD_AFTER_S:
                raise RedisConnectionError("the subscription did not answer a PING")
            elif not pinged and now - quiet_since > PING_AFTER_S:
                await pubsub.ping()
                pinged = True

    @staticmethod
    async def _confirmed(pubsub: Any) -> None:
        """Wait for Redis to confirm the subscription: only then is nothing missed."""
        async with asyncio.timeout(RECONNECT_MAX_S):  # TimeoutError: reconnect
            while True:
                message = await pubsub.get_message(timeout=LISTEN_S)
                if message is not None and message.get("type") == "subscribe":
                    return

    def _set_subscribed(self, subscribed: bool) -> None:
        if subscribed != self.subscribed:
            self.subscribed = subscribed
            # Either way the version is re-read at the next contact: on subscribing,
            # for what was published while we were not listening.
            self._service.set_policy_recheck(
                self._subscribed_recheck_s if subscribed else POLICY_RECHECK_S
            )

    def _heard(self, message: dict[str, Any]) -> None:
        try:
            body = json.loads(message["data"])
            origin = body["origin"]
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed message on %s", self._channel)
            return
        if origin != self._origin:
            self.heard += 1
            self._service.policy_changed_elsewhere()
