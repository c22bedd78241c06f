"""Uploaded files as they are handed out: what an owning app's selector answers for a stored name.

Every file under MEDIA_ROOT is private: a selector of the app that owns it finds the record by the stored
name and checks the record's policy; the web layer (`web.files`) then sends what it answers. Nothing here
reads a request or the disk.
"""

from dataclasses import dataclass

from django.db.models.fields.files import FieldFile

# Stored names never change (each upload gets a fresh one), so a picture may stay in the browser's own
# cache; a document for a shorter time, since who may read it can change.
PHOTO_MAX_AGE = 365 * 24 * 3600
DOCUMENT_MAX_AGE = 3600

# What a stored name's extension means; the uploads were checked by content when they were stored, so
# the extension (chosen by us, never by the sender) is trustworthy. Anything else is sent as a download.
_CONTENT_TYPES = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
    "pdf": "application/pdf",
    "webm": "audio/webm", "mka": "audio/x-matroska", "ogg": "audio/ogg", "opus": "audio/ogg",
    "m4a": "audio/mp4", "mp4": "audio/mp4", "3gp": "audio/3gpp", "mp3": "audio/mpeg",
    "amr": "audio/amr", "awb": "audio/amr-wb", "wav": "audio/wav",
}
BINARY = "application/octet-stream"


def content_type_for(name: str) -> str:
    return _CONTENT_TYPES.get(name.rpartition(".")[2].lower(), BINARY) if "." in name else BINARY


@dataclass(frozen=True, slots=True)
class ServedFile:
    """A stored file the asking user may have, and how to send it."""

    file: FieldFile
    content_type: str
    download_name: str  # the name offered to the browser
    max_age: int = PHOTO_MAX_AGE
    immutable: bool = True

    @property
    def as_attachment(self) -> bool:
        """Pictures and sound open in the page; everything else (PDF documents) is downloaded."""
        return not self.content_type.startswith(("image/", "audio/"))


def served(file: FieldFile, *, content_type: str | None = None, download_name: str | None = None,
           document: bool = False) -> ServedFile:
    content_type = content_type or content_type_for(file.name or "")
    name = download_name or (file.name or "").rpartition("/")[2]
    if document:
        return ServedFile(file, content_type, name, max_age=DOCUMENT_MAX_AGE, immutable=False)
    return ServedFile(file, content_type, name)
