"""Letters to customers: the written notice every policy requires, from editable templates.

``words`` puts dates, times, limits and channels into plain English and Welsh; ``facts``
builds a letter's context from the restriction, customer and organisation; ``templates``
loads the organisation's Jinja2 templates over the shipped defaults and checks them at
start-up; ``render`` makes the accessible PDF and the email text; ``letter`` writes a
whole letter (rendered fully before anything is sent) and its email; ``service`` stores,
sends (through the durable mail queue) and audits it.

May use: ``mail``, ``evidence``, ``casework``, ``policy``, ``decisions``, ``counters``,
``spool``, ``store``, ``config``, ``ops``, ``common``; and ``rules``.
"""
