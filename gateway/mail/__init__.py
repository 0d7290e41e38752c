"""The email channel's gateway side: relaying, the durable queue, replies and bounces.

``sink.MailGateway`` implements the SMTP channel's ``MailSink``; ``transport`` delivers
to the upstream (SMTP or Maildir); ``queue.QueueWorker`` retries what could not go at
once; ``compose`` writes auto-replies and bounces; ``release`` sends on held email an
officer releases; ``lifecycle.add_mail`` wires it all into the application.

May use: ``evidence``, ``casework``, ``policy``, ``decisions``, ``counters``, ``spool``,
``store``, ``config``, ``ops``, ``common``; and ``channels``, ``rules``.
"""
