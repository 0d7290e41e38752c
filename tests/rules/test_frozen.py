"""``direct_init``: the same instances, defaults, errors and frozenness as a frozen
dataclass's own ``__init__``, for the classes ``decide`` builds."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from rules.decision import Action, Decision, LimitCount, Reason, WindowOccurrence
from rules.frozen import direct_init
from rules.models import Channel
from rules.notices import NoticeFacts
from rules.policy_index import Match


@dataclass(frozen=True, slots=True)
class _Plain:
    name: str
    count: int = 0
    note: str | None = None


@direct_init
@dataclass(frozen=True, slots=True)
class _Direct:
    name: str
    count: int = 0
    note: str | None = None


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [(("a",), {}), (("a", 2), {}), (("a",), {"note": "n"}), ((), {"name": "a", "count": 3})],
)
def test_it_builds_what_the_dataclass_init_builds(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    plain, direct = _Plain(*args, **kwargs), _Direct(*args, **kwargs)
    assert dataclasses.astuple(direct) == dataclasses.astuple(plain)
    assert repr(direct).removeprefix("_Direct") == repr(plain).removeprefix("_Plain")


def test_its_errors_are_the_dataclass_init_errors() -> None:
    for call in (lambda c: c(), lambda c: c("a", nope=1), lambda c: c("a", 1, "n", 4)):
        with pytest.raises(TypeError) as plain:
            call(_Plain)
        with pytest.raises(TypeError) as direct:
            call(_Direct)
        assert str(direct.value).replace("_Direct", "_Plain") == str(plain.value)


def test_the_instances_stay_frozen() -> None:
    decision = Decision(action=Action.HOLD, reasons=(Reason("c", "t"),))
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.action = Action.DELIVER  # type: ignore[misc]
    assert hash(Match("c1")) == hash(Match("c1")) and Match("c1") == Match("c1")


@pytest.mark.parametrize(
    "cls", [Decision, Reason, LimitCount, WindowOccurrence, NoticeFacts, Match]
)
def test_the_classes_decide_builds_have_it(cls: type) -> None:
    assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"
    assert any(name.startswith("_set_") for name in cls.__init__.__globals__)


def test_a_built_decision_has_every_default() -> None:
    window = WindowOccurrence(
        "Tuesday",
        "Tuesday 10 am",
        datetime(2026, 1, 6, tzinfo=UTC),
        datetime(2026, 1, 6, 1, tzinfo=UTC),
    )
    decision = Decision(Action.MESSAGE, (), next_window=window)
    defaults = {f.name: f.default for f in dataclasses.fields(Decision) if f.name != "next_window"}
    got = {name: getattr(decision, name) for name in defaults}
    assert got == {**defaults, "action": Action.MESSAGE, "reasons": ()}
    assert decision.next_window is window
    assert LimitCount("r1", Channel.EMAIL.value, 3, "7d", 1).used == 1


@pytest.mark.parametrize(
    ("definition", "refused"),
    [
        (dataclass(slots=True)(type("A", (), {"__annotations__": {"x": int}})), "frozen dataclass"),
        (
            dataclass(frozen=True)(type("B", (), {"__annotations__": {"x": int}})),
            "frozen dataclass",
        ),
        (type("C", (), {}), "frozen dataclass"),
    ],
)
def test_other_classes_are_refused(definition: type, refused: str) -> None:
    with pytest.raises(TypeError, match=refused):
        direct_init(definition)


def test_fields_it_does_not_set_as_written_are_refused() -> None:
    @dataclass(frozen=True, slots=True)
    class Factory:
        items: list[int] = field(default_factory=list)

    @dataclass(frozen=True, slots=True)
    class Later:
        x: int
        y: int = field(init=False, default=0)

    @dataclass(frozen=True, slots=True)
    class Keyword:
        x: int = field(kw_only=True)

    @dataclass(frozen=True, slots=True)
    class Posted:
        x: int

        def __post_init__(self) -> None:
            pass

    for cls, said in ((Factory, "items"), (Later, "y"), (Keyword, "x"), (Posted, "__post_init__")):
        with pytest.raises(TypeError, match=said):
            direct_init(cls)


def test_a_class_with_no_fields() -> None:
    empty = direct_init(dataclass(frozen=True, slots=True)(type("Empty", (), {})))
    assert repr(empty()) == "Empty()"
