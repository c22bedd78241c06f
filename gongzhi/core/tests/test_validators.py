import datetime

import pytest
import time_machine

from gongzhi.core.errors import DomainError
from gongzhi.core.validators import (
    birth_date_from_id,
    gender_from_id,
    id_check_digit,
    normalize_id_number,
    normalize_phone,
)


def with_check_digit(first17: str) -> str:
    return first17 + id_check_digit(first17)


# Published in GB 11643-1999 and in every description of the standard, so a checksum that agrees only with our
# own generators cannot pass: ISO 7064 MOD 11-2 over all 17 digits.
@pytest.mark.parametrize("value", ["11010519491231002X", "110101199003074477"])
def test_real_id_numbers_are_accepted(value):
    assert normalize_id_number(value) == value
    assert id_check_digit(value[:17]) == value[17]


def test_valid_id_is_returned_canonical():
    value = with_check_digit("62110219800101123")
    assert normalize_id_number(f"  {value[:6]} {value[6:]} ") == value
    assert birth_date_from_id(value) == datetime.date(1980, 1, 1)
    assert gender_from_id(value) == "M"  # 17th digit 3 is odd


def test_valid_id_ending_in_x_accepts_lower_case():
    # Search the sequence numbers for one whose check digit is X.
    first17 = next(f"110105199003071{i:02d}" for i in range(100)
                   if id_check_digit(f"110105199003071{i:02d}") == "X")
    assert normalize_id_number(first17 + "x") == first17 + "X"


def error_of(value, fn=normalize_id_number):
    with pytest.raises(DomainError) as exc:
        fn(value)
    return exc.value


def test_wrong_check_digit():
    value = with_check_digit("62110219800101123")
    wrong = value[:17] + ("0" if value[17] != "0" else "1")
    err = error_of(wrong)
    assert "校验位" in str(err.message) and err.field == "id_number"


@pytest.mark.parametrize("birth", ["19801301", "19800132", "19800230"])
def test_impossible_birth_date(birth):
    assert "出生日期" in str(error_of(with_check_digit(f"621102{birth}123")).message)


def test_february_29_only_in_leap_years():
    assert normalize_id_number(with_check_digit("62110220000229123"))  # 2000 is a leap year
    assert "出生日期" in str(error_of(with_check_digit("62110219000229123")).message)  # 1900 is not
    assert "出生日期" in str(error_of(with_check_digit("62110220230229123")).message)


@time_machine.travel(datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC), tick=False)
def test_birth_date_in_the_future_or_before_1900():
    assert normalize_id_number(with_check_digit("62110220260301123"))
    assert "出生日期" in str(error_of(with_check_digit("62110220260302123")).message)
    assert "出生日期" in str(error_of(with_check_digit("62110218991231123")).message)


@pytest.mark.parametrize("value,n", [("62110219800101123", 17), ("6211021980010112345", 19)])
def test_wrong_length_says_how_many_digits(value, n):
    assert f"{n}位" in str(error_of(value).message)


def test_letters_inside_are_refused():
    assert "前17位应为数字" in str(error_of("62110219800101A23X").message)


def test_unknown_province_prefix():
    assert "地区代码" in str(error_of(with_check_digit("99110219800101123")).message)


def test_empty_id():
    assert "请填写" in str(error_of("  ").message)


@pytest.mark.parametrize("raw", ["13812345678", "+8613812345678", "+86 138 1234 5678", "0086-138-1234-5678",
                                 " 138 1234 5678 "])
def test_phone_forms_normalise(raw):
    assert normalize_phone(raw) == "13812345678"


@pytest.mark.parametrize("raw", ["138123456789", "1381234567", "12812345678", "0931-8812345", "09318812345",
                                 "+85213812345678", "1381234567a"])
def test_invalid_phones(raw):
    err = error_of(raw, normalize_phone)
    assert err.field == "phone" and "11位" in str(err.message)


def test_empty_phone():
    assert "请填写手机号码" in str(error_of("", normalize_phone).message)


def test_full_width_digits_from_chinese_input_methods_are_accepted():
    from gongzhi.core.validators import normalize_id_number, normalize_phone

    assert normalize_phone("１３８００１３８０００") == "13800138000"
    assert normalize_id_number("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"


def test_non_ascii_digits_that_are_not_full_width_are_refused():
    import pytest

    from gongzhi.core.errors import DomainError
    from gongzhi.core.validators import normalize_phone

    with pytest.raises(DomainError):
        normalize_phone("138١٢٣٤٥٦٧٨")
