"""The English catalogue: complete, compiled in step with its .po, and actually used at run time.

The .mo is committed (a fresh machine may lack gettext tools), so these tests catch a .po that was edited
without re-running `django-admin compilemessages`, and an entry left empty or fuzzy after `makemessages`.
"""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import translation

from gongzhi.core.errors import DomainError
from gongzhi.core.validators import id_check_digit, normalize_id_number, normalize_phone
from gongzhi.org.models import Level

LC_MESSAGES = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"

# %(name)s / %(n)d / %(s).1f, and the {n} a template fills in from JavaScript.
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|\{\w*\}")
HTML_TAG = re.compile(r"</?(?:a|abbr|b|br|code|em|i|kbd|small|span|strong)\b[^>]*>")


def parse_po(path: Path) -> list[dict]:
    """A minimal PO reader: one dict per entry with msgid, msgid_plural, msgstr / msgstr[N], flags."""
    entries: list[dict] = []
    entry: dict | None = None
    key = ""

    def flush() -> None:
        nonlocal entry
        if entry is not None and "msgid" in entry:
            entries.append(entry)
        entry = None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            flush()
            continue
        if entry is None:
            entry = {"flags": set(), "line": number, "obsolete": False}
        if line.startswith("#~"):
            entry["obsolete"] = True
        elif line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            entry[key] = ast.literal_eval(value)
    flush()
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[dict]:
    assert PO_PATH.exists(), f"missing {PO_PATH}"
    return parse_po(PO_PATH)


@pytest.fixture(scope="module")
def messages(po_entries) -> list[dict]:
    return [entry for entry in po_entries if entry["msgid"] and not entry["obsolete"]]


def translations_of(entry: dict) -> list[str]:
    if "msgid_plural" in entry:
        return [entry[f"msgstr[{n}]"] for n in range(2)]
    return [entry["msgstr"]]


def test_po_header_declares_english_utf8_and_plural_forms(po_entries):
    header = po_entries[0]
    assert header["msgid"] == ""
    assert "fuzzy" not in header["flags"]
    assert "Language: en\n" in header["msgstr"]
    assert "charset=UTF-8" in header["msgstr"]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);\n" in header["msgstr"]


def test_every_entry_is_translated_and_not_fuzzy(messages):
    assert len(messages) > 100  # the catalogue really was extracted from the code
    untranslated = [entry["msgid"] for entry in messages if not all(s.strip() for s in translations_of(entry))]
    fuzzy = [entry["msgid"] for entry in messages if "fuzzy" in entry["flags"]]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy: {fuzzy}"


def test_no_obsolete_entries_linger(po_entries):
    assert not [entry["msgid"] for entry in po_entries if entry["obsolete"]]


def test_translations_keep_placeholders_and_markup(messages):
    for entry in messages:
        sources = [entry["msgid"], entry["msgid_plural"]] if "msgid_plural" in entry else [entry["msgid"]]
        for source, target in zip(sources, translations_of(entry), strict=True):
            assert sorted(PLACEHOLDER.findall(target)) == sorted(PLACEHOLDER.findall(source)), entry["msgid"]
            assert HTML_TAG.findall(target) == HTML_TAG.findall(source), entry["msgid"]


def test_mo_is_compiled_from_the_current_po(messages):
    assert MO_PATH.exists(), "run: django-admin compilemessages"
    with MO_PATH.open("rb") as fp:
        mo = gettext.GNUTranslations(fp)
    assert mo.info().get("language") == "en"
    stale = []
    for entry in messages:
        if "msgid_plural" in entry:
            got = [mo.ngettext(entry["msgid"], entry["msgid_plural"], n) for n in (1, 2)]
        else:
            got = [mo.gettext(entry["msgid"])]
        if got != translations_of(entry):
            stale.append(entry["msgid"])
    assert not stale, f".mo out of step with .po (re-run compilemessages): {stale}"
    # Nothing extra either: the .mo holds exactly the .po's messages (plus the header).
    assert len(mo._catalog) - 1 == sum(len(translations_of(entry)) for entry in messages)


FIRST17 = "11010519900307123"
WRONG_CHECK_DIGIT = "0" if id_check_digit(FIRST17) != "0" else "1"


def domain_error_message(func, value) -> str:
    with pytest.raises(DomainError) as caught:
        func(value)
    return str(caught.value.message)


def real_strings() -> dict[str, str]:
    """A few strings the pages really show, produced by the code that shows them."""
    template = Template('{% load i18n %}{% translate "获取验证码" %}|{% blocktranslate count n=3 %}'
                        '共 {{ n }} 户{% plural %}共 {{ n }} 户{% endblocktranslate %}')
    code_button, households = template.render(Context()).split("|")
    return {
        "empty_id": domain_error_message(normalize_id_number, ""),
        "short_id": domain_error_message(normalize_id_number, "1234"),
        "bad_check_digit": domain_error_message(normalize_id_number, FIRST17 + WRONG_CHECK_DIGIT),
        "bad_phone": domain_error_message(normalize_phone, "12345"),
        "township": str(Level.TOWNSHIP.label),
        "village": str(Level.VILLAGE.label),
        "code_button": code_button,
        "households": households,
    }


def test_real_strings_come_out_in_english():
    with translation.override("en"):
        got = real_strings()
    assert got == {
        "empty_id": "Please enter your ID number.",
        "short_id": "An ID number has 18 characters; you entered 4.",
        "bad_check_digit": "The check digit of the ID number is incorrect. Please check the number and enter it again.",
        "bad_phone": "Please enter a valid 11-digit mainland China mobile number.",
        "township": "Township (town/subdistrict)",
        "village": "Village (community)",
        "code_button": "Get verification code",
        "households": "3 households in total",
    }


def test_the_same_strings_stay_chinese_in_zh_hans():
    with translation.override("zh-hans"):
        got = real_strings()
    assert got == {
        "empty_id": "请填写身份证号码。",
        "short_id": "身份证号码应为18位，您填写了4位。",
        "bad_check_digit": "身份证号码校验位不正确，请核对后重新输入。",
        "bad_phone": "请填写有效的11位中国大陆手机号码。",
        "township": "乡(镇、街道)",
        "village": "村(社区)",
        "code_button": "获取验证码",
        "households": "共 3 户",
    }


def _msgids(entries: list[dict]) -> set[tuple[str, str]]:
    return {(e.get("msgctxt", ""), e["msgid"]) for e in entries if e["msgid"] and not e["obsolete"]}


def test_catalogue_holds_exactly_the_strings_of_the_code(tmp_path, monkeypatch, settings):
    """Re-extracts every gettext string from a copy of the sources: a string added to the code but not to
    the catalogue (shown in Chinese to English readers), or one left behind after its code went, fails."""
    import shutil

    from django.core.management import call_command

    if shutil.which("xgettext") is None:
        pytest.fail("xgettext is missing: install Debian's gettext (scripts/test does)")
    source = tmp_path / "src"
    shutil.copytree(settings.BASE_DIR, source, ignore=shutil.ignore_patterns("locale", "__pycache__", "tests"))
    (source / "locale").mkdir()
    settings.LOCALE_PATHS = [source / "locale"]
    monkeypatch.chdir(source)
    call_command("makemessages", locale=["en"], ignore_patterns=["static/vendor/*"], verbosity=0)
    extracted = _msgids(parse_po(source / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    committed = _msgids(parse_po(PO_PATH))
    assert sorted(extracted - committed) == [], "run makemessages -l en and translate the new strings"
    assert sorted(committed - extracted) == [], "run makemessages -l en --no-obsolete to drop unused strings"


def test_translated_strings_are_marked_with_names_makemessages_knows():
    """xgettext finds `_`, `gettext`, `gettext_lazy`, `ngettext` … by name: a string marked with an alias such as
    `_l(...)` is never extracted, and its English translation silently disappears from the catalogue."""
    root = Path(__file__).resolve().parents[2]
    alias = re.compile(r"from django\.utils\.translation import .*\b(?:gettext|gettext_lazy|ngettext|pgettext)"
                       r" as (?!_\b)(\w+)")
    found = [f"{path.relative_to(root)}: {match.group(1)}" for path in root.rglob("*.py")
             if "/tests/" not in str(path) for match in alias.finditer(path.read_text(encoding="utf-8"))]
    assert found == []
