"""Evidence for a reader outside the system: the export, the PDF pack and its timeline.

``export`` writes one customer's evidence as CSV or JSON that anyone can check without
our code; ``pack`` builds the PDF evidence pack (``pdf`` draws it with reportlab;
``timeline`` draws a customer's contact per day as SVG, also for the web UI);
``tree_upkeep`` keeps the records' Merkle tree up with them while the gateway runs. How the
chain itself is hashed and checked lives lower, in ``gateway.chain``.

May use: ``store``, ``config``, ``ops``, ``common``; and ``rules``.
"""
