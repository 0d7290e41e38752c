"""Casework around a restriction that is not a single contact: the committee reports.

``reports`` counts customers under restriction per quarter, new, lapsed and revoked
restrictions, late reviews and appeals, for the web UI and ``contact-gateway report``.

May use: ``store``, ``config``, ``ops``, ``common``; and ``rules``.
"""
