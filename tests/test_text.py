"""The message catalogue: every key in both languages with the same placeholders, in its area."""

from __future__ import annotations

import importlib
import re

import pytest

from segmark.text import AREAS, LANGS, catalogue, msg, placeholders, reword, template

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")  # Chinese characters and punctuation


@pytest.mark.parametrize("area", AREAS)
def test_every_message_of_an_area_has_both_languages_and_the_same_placeholders(area: str) -> None:
    messages = importlib.import_module(f"segmark.text.{area}").MESSAGES
    assert messages, area
    for key, (en, zh) in messages.items():
        namespace = key.split(".")[0]
        assert "." in key and (namespace == area or namespace not in AREAS), key  # no area writes in another's
        assert en.strip() and zh.strip(), key
        assert placeholders(en) == placeholders(zh), key
        # Chinese is Chinese, unless the text is a symbol or a name that reads the same (k, CH, DB)
        assert CJK.search(zh) or zh == en, key
        assert not CJK.search(en), key


def test_every_message_renders_in_both_languages() -> None:
    for key in catalogue():
        fields = placeholders(template(key))
        for lang in LANGS:
            text = msg(key, lang, **dict.fromkeys(fields, 1.5))
            assert "{" not in text.replace("{{", ""), (key, lang)


def test_a_missing_message_is_an_error_not_a_blank() -> None:
    with pytest.raises(KeyError):
        msg("cli.no_such_message", "zh")
    assert msg("segment.why.rfm", "zh", r=5, f=4, m=3, name="冠军用户", definition="R 4-5") == \
        "R=5、F=4、M=3，符合“冠军用户”：R 4-5"


def test_a_stored_english_message_is_reworded_in_the_other_language() -> None:
    keys = ["tags.skip.no_rfm", "tags.skip.not_scored"]
    stored = "the churn model has not been scored: run `segmark predict train churn` and `segmark predict score churn`"
    assert reword(stored, keys, "zh") == ("churn 模型尚未评分：请运行 `segmark predict train churn` 和 "
                                          "`segmark predict score churn`")
    assert reword(stored, keys, "en") == stored
    # a value that repeats must be the same each time; any other text is left as written
    mixed = stored.replace("score churn", "score propensity")
    assert reword(mixed, keys, "zh") == mixed
    assert reword("a reason of my own", keys, "zh") == "a reason of my own"
