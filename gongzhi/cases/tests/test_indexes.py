"""Every index on the case tables is written by every submission (issue 10), so the set is deliberate."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def plain_indexes(table: str) -> set[tuple[str, ...]]:
    """The column lists of the table's non-unique indexes (PostgreSQL's extra `_like` ones included)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {tuple(c["columns"]) for c in constraints.values()
            if c["index"] and not c["unique"] and not c["primary_key"]}


def test_the_case_table_has_no_index_covered_by_another():
    assert plain_indexes("cases_case") == {
        ("area_path",), ("grid_id",), ("reporter_id",), ("category_id",), ("handle_due",),
        ("status", "respond_due"), ("status", "handle_due"), ("holder_id", "status"),
        # Partial: only the few cases that have one.
        ("entered_by_id",), ("subject_unit_id",), ("merged_into_id",), ("patrol_id",),
        # Partial, both: closed cases whose personal data the nightly anonymisation has still to remove, and
        # finished cases the sweep has still to archive (see below).
        ("closed_at",),
    }


def test_the_log_table_is_found_by_its_unique_case_and_seq():
    assert plain_indexes("cases_caselog") == {("actor_id",), ("actor_unit_id",)}  # both partial


@pytest.mark.parametrize("column", ["entered_by_id", "subject_unit_id", "merged_into_id", "patrol_id"])
def test_partial_indexes_leave_out_cases_without_the_column(column):
    name = f"case_{column.removesuffix('_id')}_set"
    query = ("SELECT sql FROM sqlite_master WHERE name = %s" if connection.vendor == "sqlite"
             else "SELECT indexdef FROM pg_indexes WHERE indexname = %s")
    with connection.cursor() as cursor:
        cursor.execute(query, [name])
        definition = cursor.fetchone()[0]
    assert f"{column}" in definition and "IS NOT NULL" in definition


def _definition(name: str) -> str:
    query = ("SELECT sql FROM sqlite_master WHERE name = %s" if connection.vendor == "sqlite"
             else "SELECT indexdef FROM pg_indexes WHERE indexname = %s")
    with connection.cursor() as cursor:
        cursor.execute(query, [name])
        return cursor.fetchone()[0]


def test_the_archiving_index_holds_only_finished_cases_not_archived_yet():
    """Archived cases pile up for years; the sweep must never walk them (cases.sweep._archive)."""
    definition = _definition("case_closed_not_archived")
    assert "closed_at" in definition and "archived_at" in definition and "IS NULL" in definition
    assert "IS NOT NULL" in definition
