"""How alike two case descriptions are, for the duplicate suggestions (`selectors.suggest_duplicates`).

No word segmenter: a text is compared by its characters and character pairs (bigrams), which needs no
dictionary, copes with typos and dialect, and costs a few microseconds per text. The steps:

1. `normalise`: NFKC (full-width letters, digits and spaces become half-width), lower case, only letters
   and digits kept (punctuation, spaces and emoji say nothing about the matter), a short table of spellings
   that mean the same (typos such as 拉圾/路等, everyday synonyms such as 工钱/工资), then filler words dropped:
   particles (的了吗呢啊…) and the stock phrases of a complaint (那个, 已经, 反映, 问题, 希望尽快…). They occur in
   reports of every kind, so keeping them made unrelated reports look alike; dropping them also joins the
   words around them into pairs (村口那个路灯 → 村口路灯).
2. `profile`: every bigram counts 1 and every character `UNIGRAM_WEIGHT` (2): different villagers describing
   one matter share characters more often than pairs (路灯坏了 / 灯不亮), so characters carry most of the
   weight, for short and long texts alike. Characters inside a place phrase count `PLACE_WEIGHT` (0.3): a
   locative (门口, 旁边, 后面, 边, 口…) with the three characters before it, and numbered places (3号楼, 二组).
   Where a case is, is measured by its coordinates; the words should say what it is about, or
   "村口路灯不亮" and "村口垃圾堆没人清" look alike because both are at 村口.
3. `similarity`: the cosine of two profiles, 0 (nothing shared) to 1.

Measured on `cases/tests/data/duplicate_pairs.csv` (labelled pairs; see `bench/duplicates.py`): at
`SIMILAR` (0.3) the decision "same matter" has a precision of about two thirds and a recall of about four
fifths. Text alone cannot tell "路灯不亮" at 村口 from "路灯不亮" at the school: distance does that, which is
why the suggestions rank by text, distance, recency and category together. A lexicon of matters (路灯坏,
垃圾未清运, …) was tried and left out: it helped only on the pairs it had been written against.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

# Only the first characters of a description are compared: they say what the matter is, and a 2,000-character
# text must not cost a suggestion query more than a short one.
TEXT_LIMIT = 300
# At or above this similarity two texts are taken to describe the same matter (chosen on the labelled pairs).
SIMILAR = 0.3
UNIGRAM_WEIGHT = 2.0
PLACE_WEIGHT = 0.3
PLACE_SPAN = 3  # characters before a locative that belong to the place phrase

# Same meaning, one spelling: common typos, then everyday synonyms. Applied in this order (longer first).
VARIANTS: tuple[tuple[str, str], ...] = (
    ("拉圾", "垃圾"), ("垃极", "垃圾"), ("辣圾", "垃圾"), ("路等", "路灯"), ("己经", "已经"),
    ("公共厕所", "公厕"), ("茅厕", "公厕"), ("茅房", "公厕"), ("医疗保险", "医保"),
    ("电瓶车", "电动车"), ("电驴", "电动车"), ("工钱", "工资"), ("薪水", "工资"), ("血汗钱", "工资"),
    ("噪声", "噪音"), ("小孩子", "娃娃"), ("小孩", "娃娃"), ("孩子", "娃娃"), ("菜场", "菜市场"),
    ("饭店", "饭馆"), ("餐馆", "饭馆"), ("信号灯", "红绿灯"), ("马路", "路"), ("摊子", "小摊"),
    ("摊点", "小摊"), ("摊贩", "小摊"), ("小贩", "小摊"), ("下水管", "下水道"), ("阴沟", "下水道"),
    ("臭水", "污水"), ("脏水", "污水"), ("废水", "污水"), ("泔水", "污水"), ("粪水", "污水"),
    ("电线杆", "电杆"), ("线杆", "电杆"), ("犬", "狗"),
)
# Stock phrases of a complaint and fillers, longest first so that 到现在 goes before 现在.
FILLER_PHRASES: tuple[str, ...] = (
    "为什么", "到现在", "那个", "这个", "一下", "已经", "一直", "好几", "天天", "老是", "经常", "现在", "一个",
    "有人", "我们", "我家", "他们", "你们", "希望", "尽快", "反映", "问题", "麻烦", "帮忙", "村上", "村里",
    "还是", "就是", "怎么", "咋办", "得很",
)
FILLER_CHARS = frozenset("的了吗呢啊吧呀哦嘛着")
_DROP_FILLER_CHARS = str.maketrans(dict.fromkeys(FILLER_CHARS))
# Not a letter or a digit (what str.isalnum() calls so: Unicode categories L and N), or the underscore.
_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")
# Locatives (方位词) that end a place phrase: 卫生院门口, 学校后面, 小河边, 村口.
LOCATIVES: tuple[str, ...] = (
    "门口", "门前", "旁边", "边上", "后面", "后头", "前面", "附近", "对面", "里面", "上面", "下面", "底下",
    "东头", "西头", "东边", "西边", "南边", "北边", "路口", "楼下", "楼上", "隔壁", "边", "口",
)
_NUMBERED_PLACE = re.compile(r"[0-9一二三四五六七八九十百]+(?:号楼|号|组|社|队|单元|栋|楼|村)")


def normalise(text: str) -> str:
    """The text as it is compared: half-width, lower case, letters and digits only, one spelling per word,
    no fillers."""
    text = _NOT_LETTER_OR_DIGIT.sub("", unicodedata.normalize("NFKC", text[:TEXT_LIMIT]).lower())
    for variant, canonical in VARIANTS:
        text = text.replace(variant, canonical)
    for phrase in FILLER_PHRASES:
        text = text.replace(phrase, "")
    return text.translate(_DROP_FILLER_CHARS)


def _in_place_phrase(text: str) -> list[bool]:
    """For each character of a normalised text, whether it belongs to a place phrase."""
    inside = [False] * len(text)
    for locative in LOCATIVES:
        at = text.find(locative)
        while at >= 0:
            for i in range(max(0, at - PLACE_SPAN), at + len(locative)):
                inside[i] = True
            at = text.find(locative, at + 1)
    for match in _NUMBERED_PLACE.finditer(text):
        for i in range(match.start(), match.end()):
            inside[i] = True
    return inside


@dataclass(frozen=True)
class Profile:
    """The weighted characters and bigrams of a text, with its length (norm) for the cosine."""

    weights: dict[str, float]
    norm: float


def profile(text: str) -> Profile:
    normalised = normalise(text)
    place = _in_place_phrase(normalised)
    weights: dict[str, float] = {}
    for i, ch in enumerate(normalised):
        weights[ch] = weights.get(ch, 0.0) + (UNIGRAM_WEIGHT * PLACE_WEIGHT if place[i] else UNIGRAM_WEIGHT)
    for i in range(len(normalised) - 1):
        pair = normalised[i:i + 2]
        weights[pair] = weights.get(pair, 0.0) + (PLACE_WEIGHT if place[i] and place[i + 1] else 1.0)
    return Profile(weights, math.sqrt(sum(w * w for w in weights.values())))


def similarity(a: Profile, b: Profile) -> float:
    """The cosine of two profiles: 0 when they share nothing (or either is empty), 1 for the same text."""
    if not a.norm or not b.norm:
        return 0.0
    if len(b.weights) < len(a.weights):
        a, b = b, a
    dot = sum(weight * b.weights.get(key, 0.0) for key, weight in a.weights.items())
    return min(1.0, dot / (a.norm * b.norm))


def text_similarity(a: str, b: str) -> float:
    return similarity(profile(a), profile(b))
