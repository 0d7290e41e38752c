"""Compiled Jinja2 templates kept in memory, for every environment built alike to share.

Each gateway builds its own Jinja2 environments (the web UI's, the letters'), and a new
environment compiles each template again the first time it is used: a few milliseconds
a template, about a tenth of a second for the letters checked at start-up. A process
that builds many gateways (the tests build hundreds) shares the compiled code instead.

A compiled template is kept under its name and file, with a checksum of its source:
a template whose file has changed since is compiled again, as Jinja2's own bytecode
caches do. The compiled code depends on the environment's options (autoescaping,
whitespace control, the filters it names), so one cache serves only environments built
with the same options (one for the web UI, one for the letters).
"""

from __future__ import annotations

from types import CodeType

import jinja2
from jinja2.bccache import Bucket


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled code by template, in this process's memory (a template's files are few,
    so nothing is ever dropped)."""

    def __init__(self) -> None:
        self._code: dict[str, tuple[str, CodeType]] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        found = self._code.get(bucket.key)
        if found is not None and found[0] == bucket.checksum:
            bucket.code = found[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is not None:
            self._code[bucket.key] = (bucket.checksum, bucket.code)
