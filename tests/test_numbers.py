"""Numbers as people read them: three significant digits, never an exponent."""

from __future__ import annotations

import pytest

from segmark.numbers import significant


@pytest.mark.parametrize(("value", "text"), [
    (1075.4, "1,075"), (100.0, "100"), (99.96, "100"), (10.74, "10.7"), (1.074, "1.07"), (0.1074, "0.107"),
    (9.87e-05, "0.0000987"),  # CDNOW's "sessions in the last 90 days mean 9.87e-05"
    (0.5, "0.5"), (2.0, "2"), (0.0, "0"), (-0.0123, "-0.0123"), (-1e-12, "0"), (0.4190379542, "0.419"),
])
def test_three_significant_digits_in_plain_notation(value: float, text: str) -> None:
    assert significant(value) == text


def test_a_rule_threshold_has_no_thousands_separator() -> None:
    assert significant(1234.5, grouping=False) == "1234" and significant(1234.5) == "1,234"
