"""The policy file and its spread to every gateway.

``file`` reads and writes the YAML policy file (``yaml_io`` the YAML itself, ``problems``
and ``wording`` the errors that name what is wrong and where); ``fanout`` tells the other
gateways, through Redis, that the policy changed.

May use: ``decisions``, ``counters``, ``spool``, ``store``, ``config``, ``ops``, ``common``.
"""
