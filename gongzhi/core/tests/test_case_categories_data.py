"""The preset case category tree (gongzhi/cases/data/categories.json) is well-formed and matches the seeds.

Pure data checks: no database, no case models; only the Level and DepartmentType choices are imported.
"""

import json
import re
from pathlib import Path

import pytest

from gongzhi.org.models import DepartmentType, Level

DATA = Path(__file__).resolve().parents[2] / "cases" / "data" / "categories.json"

KINDS = {"talk", "grid_affair", "dispute", "complaint"}
HANDLERS = set(DepartmentType.values) | {""}
LEVELS = set(Level.values)
NODE_KEYS = {"code", "name", "kind", "public", "handler", "marriage_family", "limits", "children"}
REQUIRED_KEYS = {"code", "name", "public", "handler"}
SLUG = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
MAX_CODE = 60  # Category.code max_length
MAX_NAME = 60  # Category.name max_length
MAX_SMALL_INT = 32767  # PositiveSmallIntegerField

# 八里镇 (seed 000) names three of its eight 说事 types.
TALK_GIVEN = ["矛盾纠纷类", "征地拆迁类", "村社发展类"]
# The ten grid-affair categories, in the order seed 002 (庄河市) lists them.
GRID_AFFAIRS = ["党建宣传", "疫情防控", "信息采集报送", "便民利民服务", "矛盾排查化解",
                "风险隐患排查", "社会治安防范", "特殊人群管理", "法治宣传教育", "市容环境治理"]
DISPUTE_TYPES = ["婚姻家庭纠纷", "邻里纠纷", "土地承包经营纠纷", "宅基地纠纷", "山林水利纠纷", "征地拆迁补偿纠纷",
                 "劳动争议纠纷", "损害赔偿纠纷", "合同债务纠纷", "物业纠纷", "医疗纠纷", "交通事故纠纷", "其他纠纷"]


@pytest.fixture(scope="module")
def doc():
    return json.loads(DATA.read_text(encoding="utf-8"))


def walk(nodes, ancestors=()):
    """Yield (node, ancestors, effective kind) depth-first, in file order."""
    for node in nodes:
        kind = node.get("kind") or (ancestors[-1][1] if ancestors else None)
        yield node, ancestors, kind
        yield from walk(node.get("children", []), (*ancestors, (node, kind)))


def all_nodes(doc):
    return list(walk(doc["categories"]))


def root(doc, kind):
    (found,) = [n for n in doc["categories"] if n["kind"] == kind]
    return found


def effective_limit(doc, node, ancestors, level):
    """(respond_hours, handle_working_days) for a level: own limit, nearest ancestor's, then the defaults."""
    for candidate in (node, *(a for a, _ in reversed(ancestors))):
        limit = candidate.get("limits", {}).get(level)
        if limit:
            return limit["respond_hours"], limit["handle_working_days"]
    defaults = doc["defaults"]
    return defaults["respond_hours"], defaults["handle_working_days"][level]


def find(doc, code):
    for node, ancestors, _kind in all_nodes(doc):
        if node["code"] == code:
            return node, ancestors
    raise AssertionError(f"no category {code}")


def is_positive_int(value, upper=MAX_SMALL_INT):
    return type(value) is int and 0 < value <= upper


def test_top_level_shape_and_defaults(doc):
    assert set(doc) == {"defaults", "categories"}
    defaults = doc["defaults"]
    assert is_positive_int(defaults["respond_hours"])
    assert set(defaults["handle_working_days"]) == LEVELS
    assert all(is_positive_int(v) for v in defaults["handle_working_days"].values())
    # The seeds' figures: grid worker responds within 24 h, village team handles within 5 days (seed 001).
    assert defaults["respond_hours"] == 24
    assert defaults["handle_working_days"]["village"] == 5


def test_node_keys_names_and_types(doc):
    for node, _ancestors, _kind in all_nodes(doc):
        assert REQUIRED_KEYS <= set(node) <= NODE_KEYS, node.get("code")
        assert isinstance(node["name"], str) and 0 < len(node["name"]) <= MAX_NAME, node["code"]
        assert node["name"] == node["name"].strip(), node["code"]
        assert isinstance(node["public"], bool), node["code"]
        assert isinstance(node.get("marriage_family", False), bool), node["code"]
        assert isinstance(node.get("children", []), list), node["code"]
        if "children" in node:
            assert node["children"], f"{node['code']}: omit 'children' instead of an empty list"


def test_codes_unique_and_slug_shaped(doc):
    codes = [node["code"] for node, _a, _k in all_nodes(doc)]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)
    for code in codes:
        assert SLUG.match(code) and len(code) <= MAX_CODE, code


def test_sibling_names_unique(doc):
    for siblings in [doc["categories"]] + [n["children"] for n, _a, _k in all_nodes(doc) if "children" in n]:
        names = [n["name"] for n in siblings]
        assert len(names) == len(set(names)), names


def test_kinds_valid_and_roots_have_one_each(doc):
    for node in doc["categories"]:
        assert "kind" in node, f"root {node['code']} needs a kind"
    root_kinds = [n["kind"] for n in doc["categories"]]
    assert len(root_kinds) == len(set(root_kinds))
    assert {"talk", "grid_affair", "dispute"} <= set(root_kinds) <= KINDS
    for node, _ancestors, kind in all_nodes(doc):
        assert kind in KINDS, node["code"]


def test_disputes_are_never_public(doc):
    for node, ancestors, kind in all_nodes(doc):
        if kind == "dispute" or any(k == "dispute" for _a, k in ancestors):
            assert node["public"] is False, node["code"]


def test_complaints_are_never_public(doc):
    # A complaint names a unit or its staff; it is not shown on the public board.
    for node, ancestors, kind in all_nodes(doc):
        if kind == "complaint" or any(k == "complaint" for _a, k in ancestors):
            assert node["public"] is False, node["code"]


def test_handlers_are_department_types_or_village_team(doc):
    for node, _ancestors, _kind in all_nodes(doc):
        assert node["handler"] in HANDLERS, (node["code"], node["handler"])


def test_limits_valid(doc):
    for node, _ancestors, _kind in all_nodes(doc):
        limits = node.get("limits", {})
        assert isinstance(limits, dict), node["code"]
        for level, limit in limits.items():
            assert level in LEVELS, (node["code"], level)
            assert set(limit) == {"respond_hours", "handle_working_days"}, (node["code"], level)
            assert is_positive_int(limit["respond_hours"]), (node["code"], level)
            assert is_positive_int(limit["handle_working_days"]), (node["code"], level)


def test_every_category_resolves_a_limit_at_every_level(doc):
    for node, ancestors, _kind in all_nodes(doc):
        for level in LEVELS:
            respond, handle = effective_limit(doc, node, ancestors, level)
            assert is_positive_int(respond) and is_positive_int(handle), (node["code"], level)


def test_limit_inheritance_examples(doc):
    node, ancestors = find(doc, "talk-development-industry")
    assert effective_limit(doc, node, ancestors, "grid") == (24, 1)
    assert effective_limit(doc, node, ancestors, "village") == (24, 5)
    node, ancestors = find(doc, "grid-risk-fire")  # urgent safety matter, inherited from 风险隐患排查
    respond, handle = effective_limit(doc, node, ancestors, "village")
    assert respond <= 2 and handle <= 3
    node, ancestors = find(doc, "dispute-expropriation")  # land matters get longer than the default
    assert effective_limit(doc, node, ancestors, "township")[1] > doc["defaults"]["handle_working_days"]["township"]


def test_talk_root_has_the_eight_types(doc):
    talk = root(doc, "talk")
    names = [c["name"] for c in talk["children"]]
    assert len(names) == 8
    assert set(TALK_GIVEN) <= set(names)
    assert talk["public"] is True


def test_grid_root_has_the_ten_seed_categories_in_order(doc):
    grid = root(doc, "grid_affair")
    assert [c["name"] for c in grid["children"]] == GRID_AFFAIRS
    for child in grid["children"]:
        assert 2 <= len(child.get("children", [])) <= 5, child["code"]


def test_dispute_root(doc):
    dispute = root(doc, "dispute")
    assert dispute["public"] is False
    names = [c["name"] for c in dispute["children"]]
    assert set(DISPUTE_TYPES) <= set(names)
    assert names[-1] == "其他纠纷"


def test_marriage_family_flag(doc):
    marriage = [c for c in root(doc, "dispute")["children"] if c["name"] == "婚姻家庭纠纷"]
    assert len(marriage) == 1 and marriage[0].get("marriage_family") is True
    for node, _ancestors, kind in all_nodes(doc):
        if "婚姻家庭" in node["name"]:
            assert node.get("marriage_family") is True, node["code"]
        if node.get("marriage_family"):
            assert kind == "dispute", f"{node['code']}: the 民转刑 flag belongs on dispute categories"
