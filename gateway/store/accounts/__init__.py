"""Staff accounts: users, their roles and tokens, and the web UI's sessions.

May use ``gateway.store.casework`` and the rest of ``gateway.store``.
"""
