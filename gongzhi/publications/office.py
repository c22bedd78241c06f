"""文书模板 files: Word (.docx) and Excel (.xlsx) documents besides PDF, checked by content, never by name.

`core.uploads.process_document` takes PDF only (what residents and workers send is read on phones, where a PDF
opens the same everywhere). A template is different: residents download it to fill it in, so it is offered in
the format people edit. An Office Open XML file is a zip; it is accepted only when

- it starts with the zip signature and opens as a zip whose central directory is intact;
- it has `[Content_Types].xml` and the main part of a Word document (`word/document.xml`) or an Excel
  workbook (`xl/workbook.xml`), and the main part's content type in `[Content_Types].xml` is the plain
  (macro-free) one;
- it carries no macros (`vbaProject.bin`), no ActiveX controls and no embedded OLE objects or executables;
- it is not a zip bomb: at most `MAX_ENTRIES` entries, each name plain (no absolute path, no ".."),
  at most `MAX_UNPACKED` bytes unpacked in all and no entry compressed more than `MAX_RATIO` times; every
  entry's checksum is verified by reading it (within those limits).

The type (and so the stored extension and the Content-Type it is served with) comes from the content. The old
binary formats (.doc, .xls) are refused with a hint to save as .docx/.xlsx or PDF. Everything else goes to
`process_document` (PDF).

`docx_bytes` and `xlsx_bytes` write small, valid files (the demo's templates): a .docx by hand with `zipfile`
(no python-docx here), an .xlsx with openpyxl.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils.translation import gettext as _

from gongzhi.core import uploads
from gongzhi.core.errors import DomainError

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
EXTENSIONS = {DOCX: "docx", XLSX: "xlsx", PDF: "pdf"}
_MAIN_PART = {"word/document.xml": (DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml"
                                          ".document.main+xml"),
              "xl/workbook.xml": (XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")}
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_ENTRIES = 500
MAX_UNPACKED = 30 * 1024 * 1024
MAX_RATIO = 200
_FORBIDDEN_PARTS = re.compile(r"(vbaproject\.bin|vbadata\.xml|/activex/|/embeddings/|\.exe$|\.dll$|\.bat$|\.cmd$"
                              r"|\.js$|\.vbs$|\.ps1$|\.scr$|\.com$)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class OfficeDocument:
    content: bytes
    name: str
    content_type: str
    extension: str
    sha256: str


def _error(message: str, code: str) -> DomainError:
    return DomainError(message, code=code, field="files")


def file_name(upload: uploads.UploadLike, extension: str) -> str:
    """The sender's file name, cleaned, ending in the extension the content says."""
    raw = (getattr(upload, "name", None) or "").replace("\\", "/").rpartition("/")[2]
    stem = "".join(ch for ch in raw if ch.isprintable() and ch not in '<>:"|?*').strip()
    if "." in stem and stem.rpartition(".")[2].lower() in {"doc", "docx", "xls", "xlsx", "pdf", "wps", "et"}:
        stem = stem.rpartition(".")[0].rstrip()
    stem = stem[:uploads.DOCUMENT_NAME_MAX_LENGTH - len(extension) - 1] or _("文件")
    return f"{stem}.{extension}"


def _office_type(data: bytes) -> str:
    """DOCX or XLSX, or DomainError."""
    damaged = _error(_("文件已损坏或不是有效的Word/Excel文件，请重新保存后上传。"), "document_corrupt")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise damaged from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise damaged
        names = {info.filename for info in infos}
        unpacked = 0
        for info in infos:
            name = info.filename
            if name.startswith("/") or "\\" in name or ".." in name.split("/") or posixpath.isabs(name):
                raise damaged
            if _FORBIDDEN_PARTS.search("/" + name):
                raise _error(_("文件含有宏、控件或嵌入的程序，不能上传。请另存为普通的.docx/.xlsx文件。"),
                             "document_macro")
            unpacked += info.file_size
            if unpacked > MAX_UNPACKED or (info.compress_size and info.file_size / info.compress_size > MAX_RATIO):
                raise damaged
        if "[Content_Types].xml" not in names:
            raise damaged
        try:
            types = archive.read("[Content_Types].xml").decode("utf-8", "replace")
            if archive.testzip() is not None:
                raise damaged
        except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, NotImplementedError):
            raise damaged from None
    if "macroEnabled" in types or "vbaProject" in types:
        raise _error(_("文件含有宏、控件或嵌入的程序，不能上传。请另存为普通的.docx/.xlsx文件。"), "document_macro")
    for part, (content_type, main_type) in _MAIN_PART.items():
        if part in names and main_type in types:
            return content_type
    raise _error(_("只能上传Word（.docx）、Excel（.xlsx）或PDF文件。"), "document_type")


def process_template_file(upload: uploads.UploadLike) -> OfficeDocument:
    """Check one template file (Word .docx, Excel .xlsx or PDF) by its content; see the module text."""
    head = upload.read(8)
    seek = getattr(upload, "seek", None)
    if callable(seek):
        seek(0)
    if head.startswith(uploads.PDF_MAGIC):
        document = uploads.process_document(upload)
        return OfficeDocument(document.content, document.name, PDF, "pdf", document.sha256)
    if head.startswith(OLE_MAGIC):
        raise _error(_("不支持旧版.doc/.xls文件，请在Word/WPS中“另存为”.docx/.xlsx或PDF后再上传。"),
                     "document_old_office")
    if not head.startswith(ZIP_MAGIC):
        raise _error(_("只能上传Word（.docx）、Excel（.xlsx）或PDF文件。"), "document_type")
    limit: int = settings.UPLOAD_DOCUMENT_MAX_BYTES
    data = uploads._read_limited(  # noqa: SLF001 - the same size rule as every other document
        upload, limit,
        too_large=_error(_("文件太大，不能超过%(limit)s。") % {"limit": uploads._megabytes(limit)},  # noqa: SLF001
                         "document_too_large"),
        empty=_error(_("文件是空的，请重新选择。"), "document_empty"))
    content_type = _office_type(data)
    extension = EXTENSIONS[content_type]
    return OfficeDocument(data, file_name(upload, extension), content_type, extension,
                          hashlib.sha256(data).hexdigest())


# Writing ------------------------------------------------------------------------------------------------------

_DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="'
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
_DOCX_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="word/document.xml"/></Relationships>')
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _paragraph(text: str, *, heading: bool = False) -> str:
    props = ('<w:pPr><w:jc w:val="center"/></w:pPr>' if heading else "")
    run_props = ('<w:rPr><w:rFonts w:eastAsia="宋体"/><w:b/><w:sz w:val="36"/></w:rPr>' if heading
                 else '<w:rPr><w:rFonts w:eastAsia="宋体"/><w:sz w:val="24"/></w:rPr>')
    return (f'<w:p>{props}<w:r>{run_props}<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>')


def docx_bytes(title: str, paragraphs: Sequence[str]) -> bytes:
    """A minimal valid Word document: the title centred in bold, then one paragraph per line."""
    body = _paragraph(title, heading=True) + "".join(_paragraph(line) for line in paragraphs)
    document = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{_W}"><w:body>'
                f'{body}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" w:right="1800" '
                f'w:bottom="1440" w:left="1800" w:header="851" w:footer="992" w:gutter="0"/></w:sectPr>'
                f'</w:body></w:document>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _DOCX_TYPES)
        archive.writestr("_rels/.rels", _DOCX_RELS)
        archive.writestr("word/document.xml", document)
    return out.getvalue()


def xlsx_bytes(title: str, header: Sequence[str], rows: Sequence[Sequence[object]] = ()) -> bytes:
    """A one-sheet workbook: the title in A1, the column heads in row 2, then the rows."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = title[:31]
    sheet.append([title])
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    for i in range(len(header)):
        sheet.column_dimensions[chr(ord("A") + i)].width = 18
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
