"""What the gateway is told: the settings, the database URL, the exemption phrase files,
and the organisation's run-time settings.

``settings.Settings`` (pydantic-settings: ``GATEWAY_*`` environment variables, an
optional ``.env`` file, embedded defaults); ``database_url`` names the database in a
message; ``exemption_phrases`` loads and checks a phrase file; ``org_settings`` is the
model of the settings an administrator changes at run time, with the bank holidays.

May use: ``ops``, ``common``; and ``rules``.
"""
