"""The Twilio channel's gateway side: wiring the webhooks to the service, forwarding texts
and calls, and keeping what the store cannot take yet.

``wiring`` builds the ``channels.twilio`` application with its ports; ``forward`` passes
a text to its named officer, by email through the mail upstream and by SMS;
``sms_spool`` and ``incident_spool`` keep an answered text or a call's incident on local
disk while the database is down, and ``sms_replay`` records them once it is back.

May use: ``mail`` (texts are forwarded as email), ``decisions``, ``spool``, ``store``,
``config``, ``ops``, ``common``; and ``channels``, ``rules``.
"""
