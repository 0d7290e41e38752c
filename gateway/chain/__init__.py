"""The hash chain: a record's canonical form and hash, and the check of a whole chain.

``links`` hashes and checks a chain; ``canonical_json`` is the one serialisation that
is hashed; ``scan`` checks a chain streamed from the database row by row (also the
stored contents against their hashes); ``verify_fast`` runs that scan for the store.
``merkle`` is the RFC 9162 Merkle tree over the records' chain hashes (roots, proofs
and their checks, pure); ``tree_scan`` works that tree out again during the scan and
compares the stored one with it; ``tree_roots.recompute_roots`` gives its roots at
given sizes (a checkpoint's), from the leaves ``leaves`` reads. ``checkpoint`` writes,
signs and checks signed checkpoints (C2SP ``tlog-checkpoint`` in a ``signed-note``),
``signing_key`` reads and makes the log's Ed25519 key, and ``witnessed`` checks that
the log still extends the checkpoints a witness holds.

Below the store, and apart from it: the fast scan behind ``contact-gateway evidence
verify`` runs from here without loading the store, the web application or the
migrations, and an outsider can read the whole of what the chain proves in this folder.

Uses nothing else of ``gateway``.
"""
