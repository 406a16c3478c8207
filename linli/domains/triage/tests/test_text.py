import re

import pytest

from linli.domains.triage.text import (
    DATE_TOKEN,
    NUMBER_TOKEN,
    char_ngrams,
    dedup_key,
    normalize,
    pos_segment,
    segment,
)


def test_full_width_letters_and_digits_become_half_width_and_lower_case():
    assert normalize("ＡＢＣ小区", placeholders=False) == "abc小区"
    assert normalize("１２３号楼", placeholders=False) == "123号楼"


def test_whitespace_collapses_and_ends_are_stripped():
    assert normalize("  楼道\t\n灯   坏了 \u3000 ") == "楼道 灯 坏了"


def test_greetings_are_removed():
    text = normalize("尊敬的领导：您好！小区路灯坏了。谢谢！")
    assert "尊敬" not in text and "您好" not in text and "谢谢" not in text
    assert "小区路灯坏了" in text


def test_dates_and_numbers_become_placeholders():
    text = normalize("2019年2月28日交了3800元，２０２０-03-01又交了69800元")
    assert text.count(DATE_TOKEN) == 2
    assert text.count(NUMBER_TOKEN) == 2
    assert not any(ch.isdigit() for ch in text)


def test_empty_input_gives_empty_text():
    assert normalize(None) == ""
    assert normalize("") == ""


def test_segmentation_finds_words_and_drops_punctuation():
    words = segment(normalize("小区垃圾没有人清运，臭味很大！"))
    assert "垃圾" in words
    assert "小区" in words
    assert "，" not in words and "," not in words and "!" not in words


def test_segmentation_keeps_placeholders_whole():
    words = segment(normalize("交了3800元"))
    assert NUMBER_TOKEN in words


def test_character_ngrams():
    assert list(char_ngrams("路灯坏", 1, 2)) == ["路", "灯", "坏", "路灯", "灯坏"]


def test_dedup_key_ignores_width_case_spacing_and_punctuation():
    assert dedup_key("ＡＢＣ 小区，路灯坏了！") == dedup_key("abc小区路灯坏了")
    assert dedup_key("路灯坏了") != dedup_key("路灯好了")


def test_search_mode_adds_the_shorter_words_inside_a_long_one():
    default = segment("中华人民共和国成立了")
    search = segment("中华人民共和国成立了", search=True)
    assert "中华人民共和国" in default and "中华" not in default
    assert "中华人民共和国" in search and {"中华", "人民", "共和国"} <= set(search)
    assert segment("〖日〗交了〖数〗元", search=True)[0] == "〖日〗"


@pytest.mark.parametrize(
    "text",
    [
        "小区垃圾没有人清运，臭味很大！",
        "楼下违停严重，伊景园小区门口ktv噪音扰民",
        "请看 https://www.baidu.com/s?id=12 或发 e-mail 到 abc_def@qq.com",  # runs jieba splits at . - _
        "路灯不亮已经3天了，2019年2月28日中华人民共和国成立了",
    ],
)
def test_words_are_the_jieba_packages_words(text):
    """jieba-rs (rjieba) cuts as the jieba package does, including where Latin runs hold punctuation."""
    import jieba

    tokenizer = jieba.Tokenizer()
    text = normalize(text)
    expected = [
        w
        for piece in re.split(r"(〖[日数]〗)", text)
        if piece
        for w in ([piece] if piece in (DATE_TOKEN, NUMBER_TOKEN) else tokenizer.cut(piece, HMM=True))
        if not re.fullmatch(r"[\W_]+", w)
    ]
    assert segment(text) == expected
    assert [w for w, tag in pos_segment(text) if tag != "x" or not re.fullmatch(r"[\W_]+", w)] == expected


def test_a_lone_surrogate_becomes_the_replacement_character():
    text = normalize("路灯\ud800坏了")
    assert text == "路灯\ufffd坏了"
    text.encode("utf-8")  # encodable again, for the segmenter and the character keys
    assert segment(text)[0] == "路灯"
