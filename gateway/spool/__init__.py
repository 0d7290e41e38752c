"""A durable spool on local disk, kept the way Maildir keeps mail, and its replay.

``maildir`` keeps items that the store cannot record yet; ``replay`` hands them to the
store once it is back, each exactly once.

May use: ``store``, ``config``, ``ops``, ``common``.
"""
