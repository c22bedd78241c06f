"""core.text.clean_text: the one cleaner of free text."""

import pytest

from gongzhi.core.errors import DomainError
from gongzhi.core.text import check_text, clean_text, has_control_characters, normalize_newlines


def test_strips_and_keeps_optional_text_optional():
    assert clean_text("  路灯坏了 \n", field="note", max_length=10) == "路灯坏了"
    assert clean_text(None, field="note", max_length=10) == ""
    assert clean_text("   ", field="note", max_length=10) == ""


def test_required_text_names_its_field():
    with pytest.raises(DomainError) as err:
        clean_text(" ", field="question", max_length=10, required_message="请填写您要追问的内容。")
    assert err.value.field == "question" and err.value.message == "请填写您要追问的内容。"


def test_too_long_text_is_refused_after_stripping():
    assert clean_text(" 一二三 ", field="note", max_length=3) == "一二三"
    with pytest.raises(DomainError) as err:
        clean_text("一二三四", field="note", max_length=3)
    assert err.value.field == "note" and str(err.value.message) == "内容不能超过3个字。"
    with pytest.raises(DomainError) as err:
        clean_text("一二三四", field="reason", max_length=3, too_long_message="查看事由不能超过3个字。")
    assert err.value.message == "查看事由不能超过3个字。"


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x08", "\x0b", "\x1b", "\x7f", "\x85", "\ud800"])
def test_control_characters_other_than_newline_and_tab_are_refused_naming_the_field(char):
    with pytest.raises(DomainError) as err:
        clean_text(f"路灯{char}坏了", field="note", max_length=100)
    assert err.value.field == "note" and err.value.code == "control_characters"
    assert "“note”" in str(err.value.message)
    with pytest.raises(DomainError) as err:
        check_text(char, field="address", label="地点说明")
    assert err.value.field == "address" and "“地点说明”" in str(err.value.message)


def test_newlines_and_tabs_are_kept_and_carriage_returns_become_newlines():
    assert clean_text(" 一\r\n二\t三\r四\n ", field="note", max_length=100) == "一\n二\t三\n四"
    assert check_text("a\r\n", field="x") == "a\n"
    assert normalize_newlines("a\r\nb\rc") == "a\nb\nc" and not has_control_characters("一\n\t二")
