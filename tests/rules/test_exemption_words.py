"""The forms of a word the classifier accepts."""

from __future__ import annotations

from rules.exemption_words import inflections, mutations, slip_index, slips


def test_english_inflections() -> None:
    assert {"leak", "leaks", "leaked", "leaking"} <= inflections("leak")
    assert {"smoke", "smoked", "smoking"} <= inflections("smoke")
    assert "smokey" not in inflections("smoke") and "copy" not in inflections("cope")
    assert {"drip", "dripping", "dripped"} <= inflections("drip")
    assert {"worry", "worries", "worried"} <= inflections("worry")
    assert inflections("co") == {"co"} and inflections("h2o") == {"h2o"}


def test_welsh_mutations() -> None:
    assert mutations("trydan") == {"trydan", "drydan", "nhrydan", "thrydan"}
    assert mutations("cwyn") == {"cwyn", "gwyn", "nghwyn", "chwyn"}
    assert mutations("lladd") == {"lladd", "ladd"}
    assert "than" not in mutations("tan") and "dan" not in mutations("tan")
    assert mutations("afon") == {"afon"}


def test_one_slip_is_forgiven_on_long_words_only() -> None:
    index = slip_index(["boiler", "ceiling", "threat", "gas", "leak"])
    assert slips("boilr", index, frozenset()) == {"boiler"}  # a letter missing
    assert slips("boiller", index, frozenset()) == {"boiler"}  # one added
    assert slips("boielr", index, frozenset()) == {"boiler"}  # two swapped
    assert slips("celing", index, frozenset()) == {"ceiling"}
    assert slips("boyler", index, frozenset()) == frozenset()  # a changed letter
    assert slips("oiler", index, frozenset()) == frozenset()  # the first letter kept
    assert slips("gass", index, frozenset()) == frozenset()  # short words are not fuzzed
    assert slips("treat", index, frozenset({"treat"})) == frozenset()  # a real word
    assert slips("treat", index, frozenset()) == {"threat"}
    assert slips("b0iler", index, frozenset()) == frozenset()
