"""Small helpers every part may use: the injected clock and plural wording.

Bottom of the house: uses nothing else of ``gateway``.
"""
