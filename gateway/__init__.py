"""The contact-gateway service, one folder per part.

From the top: ``cli`` (the command); ``app`` (the application and its wiring), with
``health`` and ``shared_state``; ``ui``; ``api``; ``held`` and ``twilio``; ``mail``;
``evidence`` and ``casework``; ``policy``; ``decisions``; ``counters`` and ``spool``;
``store``; ``chain``; ``config``; ``ops`` and ``common``. Each part may use only the parts below
it (``lint-imports`` checks it), and all of them may use ``channels`` and ``rules``.
"""
