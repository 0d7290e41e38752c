"""Quarters as a person types them for the quarterly report."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from gateway.reports import Quarter

ZONES = [ZoneInfo("Europe/London"), ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago")]


@pytest.mark.parametrize("text", ["2026Q4", " 2026q1 ", "1900Q1", "9998Q4"])
def test_a_quarter_is_read_and_spans_three_months(text: str) -> None:
    quarter = Quarter.parse(text)
    for zone in ZONES:
        start, end = quarter.span(zone)
        assert start < end
        assert (end - start).days in range(89, 93)


@pytest.mark.parametrize("text", ["2026Q5", "2026", "0000Q1", "1899Q4", "9999Q4", "Q4 2026"])
def test_anything_else_is_refused_with_the_form_expected(text: str) -> None:
    # 9999Q4 used to pass and then fail with "year 10000 is out of range" (a 500 page).
    with pytest.raises(ValueError, match="is not a quarter like 2026Q4"):
        Quarter.parse(text)
