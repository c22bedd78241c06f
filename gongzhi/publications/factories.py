"""Test and demo helpers for publications: a cast of authors, reviewers and residents on the `tree` fixture's
org tree, and a one-call published item."""

from __future__ import annotations

from dataclasses import dataclass

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.cases.factories import make_resident
from gongzhi.org.models import OrgUnit
from gongzhi.publications.models import Publication
from gongzhi.publications.services import core


def make_staff(username: str, unit: OrgUnit, role: str) -> User:
    user = User.objects.create_user(username=username, password="Gongzhi#2026", real_name=username,
                                    kind=User.Kind.STAFF)
    Membership.objects.create(user=user, unit=unit, role=role)
    return user


@dataclass
class PubWorld:
    tree: dict[str, OrgUnit]
    village_admin: User      # 小山村 (tree["village"])
    village_station: User    # 小山村
    other_village_admin: User  # 大湾村 (tree["village2"])
    dispatcher: User         # 八里镇 (tree["town"])
    dispatcher2: User        # 八里镇, a second reviewer
    county_dispatcher: User  # 安定区
    other_dispatcher: User   # 城关镇
    resident: User           # 小山村第1网格
    neighbour: User          # 小山村第2网格
    village2_resident: User  # 大湾村第1网格
    other_town_resident: User  # 东关社区第1网格
    unverified: User         # a resident account without a resident post


def make_pub_world(tree: dict[str, OrgUnit]) -> PubWorld:
    return PubWorld(
        tree=tree,
        village_admin=make_staff("pub_cunguan", tree["village"], Role.VILLAGE_ADMIN),
        village_station=make_staff("pub_gzz", tree["village"], Role.VILLAGE_STATION),
        other_village_admin=make_staff("pub_cunguan2", tree["village2"], Role.VILLAGE_ADMIN),
        dispatcher=make_staff("pub_disp", tree["town"], Role.DISPATCHER),
        dispatcher2=make_staff("pub_disp2", tree["town"], Role.DISPATCHER),
        county_dispatcher=make_staff("pub_cdisp", tree["county"], Role.DISPATCHER),
        other_dispatcher=make_staff("pub_odisp", tree["other_town"], Role.DISPATCHER),
        resident=make_resident("pub_res", "王秀兰", tree["grid"]),
        neighbour=make_resident("pub_res2", "李建国", tree["grid2"]),
        village2_resident=make_resident("pub_res3", "张桂英", tree["grid3"]),
        other_town_resident=make_resident("pub_res4", "赵六", tree["other_grid"]),
        unverified=User.objects.create_user(username="pub_unverified", kind=User.Kind.RESIDENT, real_name="钱七"),
    )


def published(actor: User, kind: str, unit: OrgUnit, audience: OrgUnit | None = None, *,
              reviewer: User | None = None, **fields) -> Publication:
    """An item of `kind` by `actor` in `unit`'s name, published at once (by `reviewer` after review when the
    kind needs a second person)."""
    fields.setdefault("title", "测试公开事项")
    item = core.create_draft(actor=actor, kind=kind, author_unit=unit, audience_unit=audience, **fields)
    if reviewer is None:
        return core.publish_now(actor=actor, publication=item)
    core.submit(actor=actor, publication=item)
    return core.approve(actor=reviewer, publication=item)
