"""Held contact that nobody has read: its age, its deadline, and the escalation email.

``age`` works out, in working days with the organisation's bank holidays, how long each
held item has waited and which are overdue (the dashboard, the API and ``/readyz``
show it); ``escalation`` emails the named officer and the team about overdue items,
exactly once even with several gateways.

May use: ``mail`` (to send), ``decisions``, ``store``, ``config``, ``ops``, ``common``.
"""
