"""The predictions messages: both languages, the same placeholders."""

from __future__ import annotations

from segmark.text import catalogue, msg, placeholders
from segmark.text.predict import MESSAGES


def test_every_message_has_both_languages_with_the_same_placeholders() -> None:
    assert set(MESSAGES) <= set(catalogue())
    for key, (en, zh) in MESSAGES.items():
        assert en.strip() and zh.strip(), key
        assert placeholders(en) == placeholders(zh), key
    assert msg("predict.why.raises", "zh", feature="购买次数", value="3", typical="1", effect="0.2") == (
        "购买次数 = 3（通常为 1）使概率提高 0.2")
