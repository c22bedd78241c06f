"""Duplicates by what reports say (`cases.similarity`); the measure is held to the labelled pairs in
data/duplicate_pairs.csv."""

import csv
from pathlib import Path

import pytest

from gongzhi.cases import similarity

PAIRS = Path(__file__).parent / "data" / "duplicate_pairs.csv"
LIGHT = "村口路灯不亮"


# The normaliser ----------------------------------------------------------------------------------------------

def test_full_width_becomes_half_width_and_only_letters_and_digits_stay():
    assert similarity.normalise("ＡＢＣ１２３　路灯！！") == "abc123路灯"
    assert similarity.normalise("路灯，不亮！\n\t😡 ……") == "路灯不亮"


def test_particles_and_stock_phrases_of_a_complaint_are_dropped():
    assert similarity.normalise("那个路灯坏了吗？希望尽快解决这个问题啊") == "路灯坏解决"


def test_typos_and_everyday_synonyms_become_one_spelling():
    assert similarity.normalise("拉圾没人清，路等不亮") == "垃圾没人清路灯不亮"
    assert similarity.normalise("包工头欠我工钱") == similarity.normalise("包工头欠我工资")


def test_only_the_first_characters_of_a_long_text_are_compared():
    assert len(similarity.normalise("路灯" * 2000)) == similarity.TEXT_LIMIT


# The measure -------------------------------------------------------------------------------------------------

def test_the_same_matter_in_other_words_meets_and_another_matter_at_the_same_place_does_not():
    assert similarity.text_similarity(LIGHT, "村口那个路灯坏了好几天") >= similarity.SIMILAR
    assert similarity.text_similarity(LIGHT, "村口垃圾堆没人清") < similarity.SIMILAR / 2


def test_the_place_weighs_less_than_what_happened_there():
    # Where a case is, its coordinates say; sharing only 卫生院门口 is not sharing the matter.
    assert similarity.text_similarity("卫生院门口的路灯不亮", "卫生院门口停车太乱") < similarity.SIMILAR / 2
    assert similarity.text_similarity("卫生院门口的路灯不亮", "路灯坏了不亮") > 2 * similarity.SIMILAR


def test_the_measure_is_symmetric_and_runs_from_nothing_shared_to_the_same_text():
    assert similarity.text_similarity(LIGHT, LIGHT) == pytest.approx(1.0)
    assert similarity.text_similarity(LIGHT, "低保的事想咨询一下") == 0.0
    assert similarity.text_similarity(LIGHT, "。。。") == similarity.text_similarity("", "") == 0.0
    a, b = "三组的自来水三天没来了", "我们组停水三天了，吃水都成问题"
    assert similarity.text_similarity(a, b) == similarity.text_similarity(b, a)


# The labelled pairs ------------------------------------------------------------------------------------------
#
# 224 pairs, half of them one matter told by two villagers, half near-misses: the same place with another
# problem, the same problem at another place (text cannot tell these; distance does), the same category with
# another matter. "tune" rows informed the choices in cases.similarity; "holdout" rows were written after
# they were frozen and measured once. Measured at SIMILAR (0.3): all pairs precision 0.650, recall 0.812;
# holdout precision 0.633, recall 0.950. The floors sit a little below, so a change that makes it worse fails.
FLOORS = {"all": (0.62, 0.78), "holdout": (0.60, 0.90)}


def labelled_pairs() -> list[dict[str, str]]:
    with PAIRS.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def precision_recall(rows: list[dict[str, str]]) -> tuple[float, float]:
    said = [(similarity.text_similarity(r["a"], r["b"]) >= similarity.SIMILAR, r["duplicate"] == "1") for r in rows]
    true_pos = sum(1 for guess, truth in said if guess and truth)
    return true_pos / max(1, sum(1 for guess, _ in said if guess)), true_pos / sum(1 for _, truth in said if truth)


def test_the_labelled_pairs_are_many_balanced_and_well_formed():
    rows = labelled_pairs()
    assert len(rows) >= 120
    assert len({r["id"] for r in rows}) == len(rows)
    assert {r["duplicate"] for r in rows} == {"0", "1"}
    assert 0.4 <= sum(r["duplicate"] == "1" for r in rows) / len(rows) <= 0.6
    assert {r["kind"] for r in rows if r["duplicate"] == "0"} == {
        "same_place_other_problem", "same_problem_other_place", "same_category_other_matter"}
    assert {r["kind"] for r in rows if r["duplicate"] == "1"} == {"same_matter"}
    assert {r["split"] for r in rows} == {"tune", "holdout"}
    assert all(r["a"].strip() and r["b"].strip() and r["a"] != r["b"] for r in rows)


@pytest.mark.parametrize("split", ["all", "holdout"])
def test_precision_and_recall_on_the_labelled_pairs_stay_above_their_floors(split):
    rows = [r for r in labelled_pairs() if split in ("all", r["split"])]
    precision, recall = precision_recall(rows)
    precision_floor, recall_floor = FLOORS[split]
    assert precision >= precision_floor and recall >= recall_floor, (split, precision, recall)
