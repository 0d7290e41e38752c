"""Evidence for a reader outside the system: the export, the PDF pack and its timeline,
the signed checkpoints witnesses keep, and the Merkle tree kept up as records come.

``export`` writes one customer's evidence as CSV or JSON that anyone can check without
our code; ``pack`` builds the PDF evidence pack (``pdf`` draws it with reportlab;
``timeline`` draws a customer's contact per day as SVG, also for the web UI);
``proofs`` adds to an export each record's inclusion proof against the latest signed
checkpoint; ``checkpoints`` makes a checkpoint and hands it to the witnesses (a file in
a folder, an email through the durable mail queue), and ``checkpoint_task`` makes one
every interval while the app runs; ``tree_upkeep`` keeps the records' Merkle tree up
with them. How the chain and the tree are hashed and checked lives lower, in
``gateway.chain``.

May use: ``store``, ``config``, ``ops``, ``common``; and ``rules``.
"""
