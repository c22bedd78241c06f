"""Small, explicit org trees for tests."""

from gongzhi.org.models import DepartmentType, Level, OrgUnit, UnitKind


def square(lng: float, lat: float, size: float = 0.01) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]],
    }


def make_unit(name: str, code: str, level: str, parent: OrgUnit | None = None, **extra) -> OrgUnit:
    return OrgUnit.objects.create(name=name, code=code, level=level, parent=parent, **extra)


def make_department(parent: OrgUnit, department_type: str, name: str, suffix: str) -> OrgUnit:
    return OrgUnit.objects.create(
        name=name, code=f"{parent.code}-{suffix}", level=parent.level, parent=parent,
        kind=UnitKind.DEPARTMENT, department_type=department_type,
    )


def make_tree() -> dict[str, OrgUnit]:
    """市 → 县 → 2 乡镇; 八里镇 → 2 村 → 2 网格 each; 1 grid in the other township; a few departments."""
    u: dict[str, OrgUnit] = {}
    u["city"] = make_unit("定西市", "621100", Level.CITY)
    u["county"] = make_unit("安定区", "621102", Level.COUNTY, u["city"])
    u["town"] = make_unit("八里镇", "621102101", Level.TOWNSHIP, u["county"])
    u["other_town"] = make_unit("城关镇", "621102102", Level.TOWNSHIP, u["county"])
    u["village"] = make_unit("小山村", "621102101201", Level.VILLAGE, u["town"])
    u["village2"] = make_unit("大湾村", "621102101202", Level.VILLAGE, u["town"])
    u["other_village"] = make_unit("东关社区", "621102102001", Level.VILLAGE, u["other_town"])
    u["grid"] = make_unit("小山村第1网格", "621102101201001", Level.GRID, u["village"],
                          boundary=square(104.60, 35.58))
    u["grid2"] = make_unit("小山村第2网格", "621102101201002", Level.GRID, u["village"],
                           boundary=square(104.61, 35.58))
    u["grid3"] = make_unit("大湾村第1网格", "621102101202001", Level.GRID, u["village2"],
                           boundary=square(104.60, 35.59))
    u["other_grid"] = make_unit("东关社区第1网格", "621102102001001", Level.GRID, u["other_village"],
                                boundary=square(104.62, 35.58))
    u["justice"] = make_department(u["town"], DepartmentType.JUSTICE, "八里镇司法所", "SFS")
    u["police"] = make_department(u["town"], DepartmentType.POLICE, "八里派出所", "PCS")
    u["county_court"] = make_department(u["county"], DepartmentType.COURT, "安定区人民法院八里法庭", "FT")
    return u
