"""Counting contacts against caps: in one process, or shared by several gateways.

``in_process`` counts in memory; ``redis_counter`` counts in Redis; ``shared`` uses Redis
behind a ``breaker`` and falls back to the evidence when Redis is away; ``redis_client``
builds the Redis connection from the settings.

May use: ``config``, ``ops``, ``common``; and ``rules``.
"""
