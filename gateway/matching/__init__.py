"""Possible matches: contact from an unknown sender that looks like a restricted customer.

A restricted customer who writes from a new address, or texts from a new number, is at
first an unknown sender, and their contact goes through as anyone's would. That stays
so: nothing is blocked on a guess. But after the contact has been decided and passed
on, ``matcher.Matcher`` compares it (in a background task, a bounded amount of work per
message) with the restricted customers: the display name, a name signed at the end, a
phone number or address in the text (``clues``). What looks like one is listed
(``gateway.store.casework.matches``) for a person to confirm or dismiss.

May use: ``decisions``, ``store``, ``config``, ``ops``, ``common``; ``channels``, ``rules``.
"""
