"""The libraries (M25): search by word and tag, guides' facts, https-only service links, template files checked
by content (Word/Excel/PDF; macros, old formats, zip bombs and fakes refused)."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.core.errors import Conflict, DomainError, Forbidden
from gongzhi.publications import kinds, office
from gongzhi.publications.factories import published
from gongzhi.publications.models import Attachment, Guide, Status
from gongzhi.publications.selectors import core as selectors
from gongzhi.publications.selectors import library as library_selectors
from gongzhi.publications.services import core
from gongzhi.publications.services import library as services

pytestmark = pytest.mark.django_db


def _draft(pub, kind, **fields):
    fields.setdefault("title", "测试")
    return core.create_draft(actor=pub.dispatcher, kind=kind, author_unit=pub.tree["town"], **fields)


def test_the_library_is_searched_by_words_and_by_tag(pub):
    published(pub.dispatcher, "policy", pub.tree["town"], title="2026年耕地地力保护补贴发放公告",
              body="补贴标准每亩105.6元", tags="补贴，耕地")
    published(pub.dispatcher, "law", pub.tree["town"], title="人民调解法", tags="调解 法律")
    assert [p.title for p in selectors.readable(pub.resident, group=kinds.Group.LIBRARY, tag="补贴")] == [
        "2026年耕地地力保护补贴发放公告"]
    assert [p.title for p in selectors.readable(pub.resident, group=kinds.Group.LIBRARY, search="每亩 补贴")] == [
        "2026年耕地地力保护补贴发放公告"]
    assert not selectors.readable(pub.other_town_resident, group=kinds.Group.LIBRARY, tag="补贴").exists()


def test_a_guide_needs_its_facts_before_it_is_published(pub):
    item = core.create_draft(actor=pub.village_admin, kind="guide", author_unit=pub.tree["village"],
                             title="城乡居民养老保险参保登记")
    core.submit(actor=pub.village_admin, publication=item)
    with pytest.raises(DomainError) as err:
        core.approve(actor=pub.dispatcher, publication=item)
    assert err.value.code == "publication_incomplete"
    item.refresh_from_db()
    assert item.status == Status.IN_REVIEW
    core.return_for_changes(actor=pub.dispatcher, publication=item, reason="请填写办事要素")
    guide = services.save_guide(actor=pub.village_admin, publication=item, fields=services.GuideFields(
        matter="城乡居民基本养老保险参保登记", materials="1. 居民身份证原件\n2、户口簿\n\n（3）一寸照片1张",
        place="八里镇便民服务中心社保窗口", office_hours="工作日 9:00-12:00，14:30-17:30", fee="不收费",
        time_limit="即时办结", online_url="https://zwfw.gansu.gov.cn/", phone="0932-1234567"))
    assert guide.materials == ["居民身份证原件", "户口簿", "一寸照片1张"]
    core.submit(actor=pub.village_admin, publication=item)
    core.approve(actor=pub.dispatcher, publication=item)
    assert library_selectors.guide_of(item) == guide
    assert kinds.context_for("reader", pub.resident, item)["guide"] == guide


@pytest.mark.parametrize("url", ["http://zwfw.gansu.gov.cn/", "javascript:alert(1)", "https://", "zwfw.gansu.gov.cn",
                                 "https://user:pw@example.gov.cn/", "https://exa mple.cn/", "ftp://x.cn/"])
def test_a_service_link_is_https_only(pub, url):
    item = _draft(pub, "service_link", title="甘肃政务服务网")
    with pytest.raises(DomainError) as err:
        services.save_service_link(actor=pub.dispatcher, publication=item, url=url)
    assert err.value.field == "url"
    with pytest.raises(DomainError):
        core.publish_now(actor=pub.dispatcher, publication=item)


def test_a_service_link_is_published_and_shown(pub):
    item = _draft(pub, "service_link", title="甘肃政务服务网")
    services.save_service_link(actor=pub.dispatcher, publication=item, url="https://zwfw.gansu.gov.cn/",
                               phone="12345")
    core.publish_now(actor=pub.dispatcher, publication=item)
    [(shown, link)] = library_selectors.service_links(pub.resident)
    assert shown == item and link.url == "https://zwfw.gansu.gov.cn/"
    assert library_selectors.service_links(pub.other_town_resident) == []


def test_only_the_drafts_author_side_edits_library_parts(pub):
    item = _draft(pub, "guide", title="低保申请")
    with pytest.raises(Forbidden):
        services.save_guide(actor=pub.other_dispatcher, publication=item,
                            fields=services.GuideFields(matter="低保"))
    services.save_guide(actor=pub.dispatcher, publication=item, fields=services.GuideFields(matter="低保"))
    core.publish_now(actor=pub.dispatcher, publication=item)
    with pytest.raises(Conflict):
        services.save_guide(actor=pub.dispatcher, publication=item, fields=services.GuideFields(matter="低保2"))
    assert Guide.objects.get(publication=item).matter == "低保"


# Template files ---------------------------------------------------------------------------------------------

def _upload(name, data):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def _zip(entries, *, compression=zipfile.ZIP_DEFLATED):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_word_excel_and_pdf_templates_are_stored_with_their_real_type(pub, media):
    item = _draft(pub, "template", title="民事起诉状（样本）")
    docx = office.docx_bytes("民事起诉状", ["原告：", "被告：", "诉讼请求："])
    xlsx = office.xlsx_bytes("借款明细", ["日期", "金额"])
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    files = services.add_template_files(actor=pub.dispatcher, publication=item, files=[
        _upload("民事起诉状.docx", docx), _upload("明细.XLSX", xlsx), _upload("说明.pdf", pdf)])
    assert [(f.name, f.content_type) for f in files] == [
        ("民事起诉状.docx", office.DOCX), ("明细.xlsx", office.XLSX), ("说明.pdf", office.PDF)]
    assert [f.file.name.rpartition(".")[2] for f in files] == ["docx", "xlsx", "pdf"]
    with zipfile.ZipFile(io.BytesIO(files[0].file.read())) as archive:
        assert "民事起诉状" in archive.read("word/document.xml").decode()
    core.publish_now(actor=pub.dispatcher, publication=item)
    assert kinds.context_for("reader", pub.resident, item)["files"] == files


def test_a_docx_named_as_anything_is_recognised_by_content(pub, media):
    item = _draft(pub, "template", title="借条")
    [row] = services.add_template_files(actor=pub.dispatcher, publication=item,
                                        files=[_upload("借条.pdf", office.docx_bytes("借条", ["今借到"]))])
    assert (row.name, row.content_type) == ("借条.docx", office.DOCX)


MAIN = office._MAIN_PART["word/document.xml"][1]
TYPES = f'<Types><Override PartName="/word/document.xml" ContentType="{MAIN}"/></Types>'


@pytest.mark.parametrize(("data", "code"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "document_old_office"),
    (b"MZ\x90\0 an executable", "document_type"),
    (b"PK\x03\x04 not really a zip", "document_corrupt"),
    (_zip({"a.txt": "x"}), "document_corrupt"),
    (_zip({"[Content_Types].xml": TYPES, "word/document.xml": "<w/>", "word/vbaProject.bin": "x"}), "document_macro"),
    (_zip({"[Content_Types].xml": TYPES.replace("document.main", "document.macroEnabled.main"),
           "word/document.xml": "<w/>"}), "document_macro"),
    (_zip({"[Content_Types].xml": TYPES, "word/document.xml": "<w/>", "word/embeddings/oleObject1.bin": "x"}),
     "document_macro"),
    (_zip({"[Content_Types].xml": TYPES, "word/document.xml": "<w/>", "bomb.xml": "0" * 5_000_000}),
     "document_corrupt"),
    (_zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>"}), "document_type"),
    (_zip({"[Content_Types].xml": TYPES, "../evil.xml": "<w/>", "word/document.xml": "<w/>"}), "document_corrupt"),
])
def test_bad_template_files_are_refused_and_nothing_is_stored(pub, media, data, code):
    item = _draft(pub, "template", title="模板")
    good = _upload("ok.docx", office.docx_bytes("模板", ["x"]))
    with pytest.raises(DomainError) as err:
        services.add_template_files(actor=pub.dispatcher, publication=item, files=[good, _upload("bad.docx", data)])
    assert err.value.code == code
    assert not Attachment.objects.exists()
    assert not list((media / "publications").rglob("*.*")) if (media / "publications").exists() else True


def test_a_template_is_published_only_with_a_file(pub, media):
    item = _draft(pub, "template", title="授权委托书")
    with pytest.raises(DomainError) as err:
        core.publish_now(actor=pub.dispatcher, publication=item)
    assert err.value.code == "publication_incomplete"
    with pytest.raises(Forbidden):
        services.add_template_files(actor=pub.village_admin, publication=item,
                                    files=[_upload("a.docx", office.docx_bytes("a", []))])
