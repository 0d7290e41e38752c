"""Deciding and recording a contact: the one place the pure rules meet the store.

``service.ContactService`` identifies the customer, reads the policy, counts, decides
(``rules.engine.decide``) and writes the evidence record; ``reserved_counts`` holds a
count until its record commits; ``replay`` answers a retried contact from its record;
``org_decisions`` folds the organisation-wide facts an administrator may change (such as
exemption phrases and protected routes) into the decision settings; ``decision_json`` is
a decision's JSON form.

May use: ``counters``, ``spool``, ``store``, ``config``, ``ops``, ``common``; ``rules``.
"""
