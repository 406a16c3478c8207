"""Chinese text handling for smart triage: normalisation, segmentation, character n-grams.

Everything here is pure and deterministic. Words come from jieba's algorithm and dictionary as
jieba-rs implements them (the ``rjieba`` binding: the same words as the jieba package, about ten times
faster); the parts of speech are read from the dictionary file inside the jieba package. Both load
once per process; nothing is downloaded.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator

__all__ = [
    "char_ngrams",
    "dedup_key",
    "dictionary_tag",
    "normalize",
    "pos_segment",
    "segment",
    "strip_boilerplate",
]

# Greetings and sign-offs that say nothing about where an appeal should go.
_BOILERPLATE = re.compile(
    r"(尊敬的(各位)?(领导|市长|局长|书记|县长|区长|主任|工作人员|相关部门|有关部门)(们)?(好|您好|你们好)?"
    r"|(领导|各位领导|市长|书记|局长)(您好|你好|们好)"
    r"|您好|你好|你们好|谢谢(您|你|你们|领导)?|感谢(您|你|你们|领导)?|此致|敬礼"
    r"|望(领导|相关部门|有关部门)?(尽快)?(回复|答复|给予答复|给予回复)"
    r"|盼(回复|答复)|期待(您的)?(回复|答复))"
)
# Dates and times before plain numbers, so "2019年2月28日" becomes one placeholder.
_DATE = re.compile(
    r"\d{2,4}\s*[年/.-]\s*\d{1,2}\s*[月/.-]\s*\d{1,2}\s*[日号]?"
    r"|\d{2,4}\s*年\s*\d{1,2}\s*月"
    r"|\d{1,2}\s*月\s*\d{1,2}\s*[日号]"
    r"|\d{1,2}\s*:\s*\d{2}(\s*:\s*\d{2})?"
)
_NUMBER = re.compile(r"\d+(\.\d+)?")
_SPACE = re.compile(r"\s+")
_NON_WORD = re.compile(r"[\W_]+")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # a str holds a pair as one code point: these are lone

DATE_TOKEN = "〖日〗"  # noqa: S105 — a placeholder, not a secret
NUMBER_TOKEN = "〖数〗"  # noqa: S105 — a placeholder, not a secret


def normalize(text: str | None, *, placeholders: bool = True, boilerplate: bool = True) -> str:
    """Return ``text`` in the one form the classifier sees.

    NFKC folds full-width Latin letters, digits and punctuation to half-width (``ＡＢＣ１２３，`` →
    ``ABC123,``); Latin letters are lowered; runs of whitespace become one space; greetings such as
    "尊敬的领导" are dropped; dates and numbers become the placeholders 〖日〗 and 〖数〗 so that
    "3800元" and "69800元" look alike. A lone surrogate (from a malformed JSON escape, say), which no
    encoder accepts, becomes U+FFFD.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", _LONE_SURROGATE.sub("\ufffd", text)).lower()
    if boilerplate:
        text = strip_boilerplate(text)
    if placeholders:
        text = _DATE.sub(DATE_TOKEN, text)
        text = _NUMBER.sub(NUMBER_TOKEN, text)
    return _SPACE.sub(" ", text).strip()


def strip_boilerplate(text: str) -> str:
    return _BOILERPLATE.sub(" ", text)


def dedup_key(text: str | None) -> str:
    """A key under which two copies of one message compare equal (case, width, spacing, punctuation)."""
    if not text:
        return ""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


# --- segmentation ---------------------------------------------------------------------------------

_PUNCT_OR_SPACE = re.compile(r"^[\W_]+$")
_ASCII_ALNUM = re.compile(r"[a-z0-9]")
_ASCII_PARTS = re.compile(r"[a-z0-9]+|[^a-z0-9]")


def _cut(piece: str, *, search: bool = False, punctuation: bool = False) -> list[str]:
    """jieba's words of ``piece`` (its HMM on for words outside the dictionary), from jieba-rs; spaces
    and punctuation only with ``punctuation``.

    jieba-rs keeps a run such as ``baidu.com``, ``e-mail`` or ``publish_id`` whole where the jieba
    package splits it at the punctuation; it is split here the same way, so that both give the same
    words (all but 2 of 14,929 messages of the 2020 data, docs/triage.md)."""
    import rjieba  # the dictionary is built into the extension and loads in about 0.1 s

    words = []
    for word in (rjieba.cut_for_search if search else rjieba.cut)(piece, True):
        if word.isalnum():  # nearly every word: no punctuation, nothing to split
            words.append(word)
        elif len(word) > 1 and _ASCII_ALNUM.search(word):
            parts = _ASCII_PARTS.findall(word)
            words.extend(parts if punctuation else (p for p in parts if not _PUNCT_OR_SPACE.match(p)))
        elif punctuation or not _PUNCT_OR_SPACE.match(word):
            words.append(word)
    return words


def _pieces(text: str) -> Iterator[tuple[str, bool]]:
    """``text`` split around the date and number placeholders: ``(piece, is_placeholder)``. jieba would
    cut a placeholder into its brackets and a character; it is kept whole."""
    for piece in re.split(r"(〖[日数]〗)", text):
        if piece:
            yield piece, piece in (DATE_TOKEN, NUMBER_TOKEN)


def segment(text: str, *, search: bool = False) -> list[str]:
    """Words of ``text`` (already normalised) by jieba, without spaces and punctuation; with ``search``,
    jieba's search mode (a long word followed by the shorter dictionary words inside it)."""
    words: list[str] = []
    for piece, placeholder in _pieces(text or ""):
        if placeholder:
            words.append(piece)
        else:
            words.extend(_cut(piece, search=search))
    return words


_pos_table: dict[str, str] | None = None
_pos_lock = threading.Lock()
_CJK = re.compile(r"^[\u4e00-\u9fff]+$")


def _pos_tags() -> dict[str, str]:
    """The dictionary words' parts of speech (the table jieba.posseg builds), read once from the
    dictionary file inside the jieba package: the dictionary jieba-rs carries, word for word."""
    global _pos_table
    if _pos_table is None:
        with _pos_lock:
            if _pos_table is None:
                import jieba  # only for its dictionary file; the package's own tokenizer is not built

                table: dict[str, str] = {}
                with jieba.get_dict_file() as lines:
                    for line in lines:
                        word, _freq, *tag = line.decode("utf-8").split()
                        if tag:
                            table[word] = tag[0]
                _pos_table = table
    return _pos_table


def dictionary_tag(word: str) -> str | None:
    """The part of speech of ``word`` in jieba's dictionary, None if it is not a dictionary word."""
    return _pos_tags().get(word)


def pos_segment(text: str) -> list[tuple[str, str]]:
    """Words of ``text`` (already normalised) with their part of speech (jieba's tags: n, v, vn, a, d,
    p, r, t, m …), punctuation and spaces included as "x" so that a caller sees where phrases break.

    The words are ``segment``'s (jieba's cut, with its HMM for words not in the dictionary); the tag
    of a dictionary word is the dictionary's, as in jieba.posseg. A word the HMM found (a name, a new
    compound such as 违停) gets "un", digits and placeholders "m", Latin letters "eng". jieba.posseg's
    own HMM tagging is much slower and tags such words no better."""
    tags = _pos_tags()
    words: list[tuple[str, str]] = []
    for piece, placeholder in _pieces(text or ""):
        if placeholder:
            words.append((piece, "m"))
            continue
        for word in _cut(piece, punctuation=True):
            if _PUNCT_OR_SPACE.match(word):
                words.append((word, "x"))
            elif word in tags:
                words.append((word, tags[word]))
            elif _CJK.match(word):
                words.append((word, "un"))
            elif word.isascii() and word.isalpha():
                words.append((word, "eng"))
            else:
                words.append((word, "m" if word[:1].isdigit() else "x"))
    return words


def char_ngrams(text: str, n_min: int = 1, n_max: int = 3) -> Iterator[str]:
    """Character n-grams of ``text`` (already normalised), spaces excluded from unigrams."""
    for n in range(n_min, n_max + 1):
        for i in range(len(text) - n + 1):
            gram = text[i : i + n]
            if n == 1 and gram == " ":
                continue
            yield gram


def join_words(words: Iterable[str]) -> str:
    return " ".join(words)
