"""The hash chain: a record's canonical form and hash, and the check of a whole chain.

``links`` hashes and checks a chain; ``canonical_json`` is the one serialisation that
is hashed; ``scan`` checks a chain streamed from the database row by row (also the
stored contents against their hashes); ``verify_fast`` runs that scan for the store.

Bottom of the store: uses nothing else of ``gateway.store``, so an outsider can read the
whole of what the chain proves here.
"""
