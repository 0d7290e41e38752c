"""Reminders: one daily email digest per officer and authoriser of what is theirs.

``gather`` works out, for one person, the reviews due within 14 days or overdue, the
appeals awaiting a decision with their deadlines, held contact past its reading limit
(``gateway.held.age``), warning flags due for review and letters not yet sent (through
``LetterSeam``, wired by the app to the letters store); ``digest`` words it and sends it once a
day per person, exactly once however many gateways run (a claimed row in
``digests_sent``, committed with the queued email), through the mail upstream.

May use: ``held``, ``mail``, ``evidence``, ``casework``, ``decisions``, ``store``,
``config``, ``ops``, ``common``.
"""
