"""core.text.clean_text: the one cleaner of free text."""

import pytest

from gongzhi.core.errors import DomainError
from gongzhi.core.text import clean_text


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
