"""The ``contact-gateway`` command: its parser, each group of subcommands, the simulator.

``main.main`` is the console entry point. It parses, loads the settings and hands each
subcommand to a small module: ``commands`` (serve, db, rules, explain, exemptions,
evidence export), ``evidence_verify``, ``ui_commands`` (reports), ``users_commands`` and
``simulate`` (signed Twilio requests to a running gateway). ``failed.CommandFailed`` is
the one-line error a command ends with.

Top of the house: it may use every other part of ``gateway`` (and ``channels``, ``rules``);
nothing imports it.
"""
