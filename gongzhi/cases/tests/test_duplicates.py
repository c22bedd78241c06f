"""Duplicate suggestions by what reports say (`cases.similarity`) and by where, when and in which category
(`selectors.suggest_duplicates`); the text measure is held to the labelled pairs in data/duplicate_pairs.csv."""

import csv
import datetime
import importlib.util
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.cases import selectors, services, similarity
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import Category
from gongzhi.cases.tests.helpers import HERE, closed, offset
from gongzhi.cases.workflow import Action, Status
from gongzhi.org.models import Level

PAIRS = Path(__file__).parent / "data" / "duplicate_pairs.csv"
NOW = datetime.datetime(2026, 6, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
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


# Suggestions ------------------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def at(people, cats):
    """at(metres north, metres east, text, category=…, days_ago=…, by=…) → a case reported there and then."""

    def make(north, east, text, *, category=None, days_ago=0, by="resident"):
        lat, lng = offset(north, east)
        with time_machine.travel(NOW - datetime.timedelta(days=days_ago), tick=False):
            return report(people[by], category or cats["env"], lat=lat, lng=lng, description=text)

    return make


def suggest(cats, text="", **kwargs):
    kwargs.setdefault("category", cats["env"])
    return selectors.suggest_duplicates(lat=HERE[0], lng=HERE[1], text=text, now=NOW, **kwargs)


def leaf(code):
    return Category.objects.get(code=code)


def test_a_similar_case_a_little_further_ranks_above_an_unrelated_one_next_door(at, cats):
    unrelated = at(0, 30, "村口垃圾堆没人清")
    similar = at(180, 0, "村口那个路灯坏了好几天，晚上黑得很")
    found = suggest(cats, LIGHT)
    assert [s.case for s in found] == [similar, unrelated]
    first, second = found
    assert first.similar_text and not second.similar_text and first.score > second.score
    assert (first.about_m, second.about_m) == (180, 30)
    assert first.same_category and first.same_grid


def test_text_reaches_a_kilometre_and_across_categories(at, cats):
    repair = leaf("grid-service-repair")  # 公共设施报修: where a grid worker would put the same light
    across = at(100, 0, "村口的路灯坏了，晚上不亮", category=repair, by="grid_worker")
    further = at(600, 0, "村口路灯坏了好几天不亮")  # in the next grid (大湾村), same township
    at(20, 0, "想咨询一下低保怎么申请", category=repair, by="grid_worker")  # another category, unrelated
    at(1100, 0, LIGHT)  # the same words, past a kilometre
    found = suggest(cats, LIGHT)
    assert [s.case for s in found] == [across, further]
    assert not found[0].same_category and not found[1].same_grid
    # Without a text (older API clients) only the same category within 250 m, as before.
    assert suggest(cats) == []


def test_a_sibling_category_ranks_above_an_unrelated_one(at, cats):
    garbage, sewage = leaf("talk-environment-garbage"), leaf("talk-environment-sewage")
    text = "小河边的垃圾堆了很多没人清"
    sibling = at(100, 0, text, category=sewage)
    stranger = at(100, 0, text, category=leaf("grid-cityscape-garbage"))
    found = suggest(cats, text, category=garbage)
    assert [s.case for s in found] == [sibling, stranger] and found[0].score > found[1].score


def test_closed_rejected_merged_older_and_unseen_cases_never_appear(tree, people, at, cats):
    kept = at(0, 10, LIGHT)
    closed(people, tree, at(0, 20, LIGHT))
    act(people["dispatcher"], at(0, 30, LIGHT), Action.REJECT, note="不属实")
    services.merge_case(actor=people["dispatcher"], case=at(0, 40, LIGHT), merge_into=kept, note="重复")
    at(0, 50, LIGHT, days_ago=31)
    in_grid2 = at(0, 600, LIGHT)  # 小山村第2网格
    assert [s.case for s in suggest(cats, LIGHT)] == [kept, in_grid2]
    assert [s.case for s in suggest(cats, LIGHT, user=people["grid_worker"])] == [kept]
    assert [s.case for s in suggest(cats, LIGHT, user=people["other_grid_worker"])] == [in_grid2]
    assert suggest(cats, LIGHT, user=people["other_dispatcher"]) == []
    assert [s.case for s in suggest(cats, LIGHT, user=people["resident"])] == [kept, in_grid2]
    assert suggest(cats, LIGHT, user=people["neighbour"]) == []  # residents see only their own cases
    assert [s.case for s in suggest(cats, LIGHT, exclude=kept)] == [in_grid2]


def test_an_escalated_case_held_by_the_county_is_still_found(people, at, cats):
    case = at(0, 10, LIGHT)
    act(people["dispatcher"], case, Action.ACCEPT)
    act(people["dispatcher"], case, Action.ESCALATE, note="需区里协调")
    case.refresh_from_db()
    assert case.status == Status.ESCALATED and case.holder.level == Level.COUNTY
    assert [s.case for s in suggest(cats, LIGHT)] == [case]


def test_a_case_across_the_township_border_is_found(tree, people, cats):
    """Candidates come from every township whose grids reach within a kilometre, not only the point's."""
    here = (35.585, 104.6195)  # 八里镇, 小山村第2网格, 90 m from a case in 城关镇's grid
    there, _created = services.submit_case(actor=people["resident"], client_id=uuid.uuid4(),
                                           category=cats["env"], description=LIGHT, lat=35.585, lng=104.6205)
    assert there.holder == tree["other_town"]
    found = selectors.suggest_duplicates(category=cats["env"], lat=here[0], lng=here[1], text=LIGHT)
    assert [s.case for s in found] == [there]
    assert selectors.suggest_duplicates(category=cats["env"], lat=here[0], lng=here[1], text=LIGHT,
                                        user=people["county_dispatcher"])[0].case == there


def test_at_most_the_limit_best_first(at, cats):
    cases = [at(20 * i, 0, LIGHT) for i in range(1, 8)]
    found = suggest(cats, LIGHT)
    assert [s.case for s in found] == cases[:selectors.DUPLICATE_LIMIT]
    assert [s.case for s in suggest(cats, LIGHT, limit=2)] == cases[:2]


def test_only_the_nearest_candidates_are_read(at, cats, monkeypatch):
    monkeypatch.setattr(selectors, "DUPLICATE_CANDIDATES", 2)
    near = [at(10, 0, "村口垃圾堆没人清"), at(20, 0, "村口垃圾堆没人清")]
    at(300, 0, LIGHT)  # similar, but the third nearest
    assert {s.case for s in suggest(cats, LIGHT)} == set(near)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the plan is SQLite's")
def test_the_candidates_come_from_the_holder_and_status_index_not_a_scan(at, cats):
    at(0, 10, LIGHT)
    with CaptureQueriesContext(connection) as queries:
        suggest(cats, LIGHT)
    [candidates] = [q["sql"] for q in queries.captured_queries if '"holder_id" IN (SELECT' in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + candidates)
        plan = " / ".join(row[-1] for row in cursor.fetchall())
    assert "cases_case USING INDEX cases_case_holder" in plan and "SCAN cases_case" not in plan, plan


def test_the_benchmark_runs_on_a_tiny_size(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    path = Path(__file__).resolve().parents[3] / "bench" / "duplicates.py"
    spec = importlib.util.spec_from_file_location("bench_duplicates", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    figures = bench.main(["--open", "300", "--closed", "100", "--queries", "5"])
    assert figures["text"]["splits"]["all"]["pairs"] == len(labelled_pairs())
    assert set(figures["queries"]) == {"new, user", "baseline, user", "new, no user", "baseline, no user"}
    assert figures["queries"]["new, user"]["returned"] > 0
