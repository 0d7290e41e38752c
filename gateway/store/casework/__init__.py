"""The admin side of the store: restrictions through their lifecycle, casework, the
organisation's settings, and officers and customers one at a time.

``admin.AdminStore`` opens transactions for the API; ``lifecycle`` writes each change
of a restriction as a new version with its history and audit; ``casework`` keeps warning
flags, reasonable adjustments, assignments and the organisation's settings; ``records``
reads, creates and changes officers and customers one at a time.

May use the rest of ``gateway.store`` below it; not ``gateway.store.accounts``.
"""
