"""Checking and normalising what residents and grid workers upload: photos, voice notes and documents.

Pure functions, no database and no storage: an interface (or a case service) hands in the uploaded file,
gets back bytes that are safe to keep, and stores them where it likes.

Photos (`process_photo`): decoded with Pillow whatever their name or declared content type says; JPEG,
PNG, WebP and HEIC/HEIF are accepted; EXIF orientation is applied, then *all* metadata is dropped (EXIF
with GPS, XMP, comments, ICC after converting the pixels to sRGB); the longest side is brought down to
1920 px and the result re-encoded as a progressive JPEG, with a 320 px thumbnail next to it. Decoding is
what costs memory, so it is bounded three ways: the picture's size is read from its header and anything over
UPLOAD_PHOTO_MAX_PIXELS is refused before a pixel is decoded; a JPEG is decoded straight at 1/2, 1/4 or 1/8
scale when the output allows (draft mode); and at most UPLOAD_PHOTO_CONCURRENT_DECODES pictures are decoded
at once in a process (the others wait their turn).

Voice notes (`process_voice`): the bytes are kept as they are, but their type is recognised from their
first bytes (WebM/Matroska, Ogg Opus/Vorbis, MP4/M4A/3GP, MP3, AMR-NB/WB, WAV) and their length is
measured: mutagen for Ogg, MP4, MP3 and WAV; our own readers for WebM (Chromium's MediaRecorder writes no
Duration, so it is computed from the block timestamps) and AMR (frames are counted).

Documents (`process_document`): PDF only, recognised by its first bytes and kept as they are; a file without
the end marker in its last kilobyte was cut short in transit and is refused. Word and Excel files are refused
with a hint to save them as PDF (every office suite, WPS included, can): a PDF opens the same on every phone
and runs no macros. Documents are only ever sent as downloads (`core.files`).

Every refusal is a `DomainError(field="photos" | "voice" | "documents")` with a message a resident can act on.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import struct
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageCms

from gongzhi.core.errors import DomainError

PHOTO_MAX_SIDE = 1920
PHOTO_THUMB_SIDE = 320
PHOTO_QUALITY = 82
PHOTO_THUMB_QUALITY = 78
PHOTO_CONTENT_TYPE = "image/jpeg"

# Pillow's names for what we accept. (A JPEG with extra pictures — depth maps, previews — as many phones
# write comes out of the JPEG opener as "MPO"; only its first picture is used.) Restricting Image.open to
# these also keeps Pillow's rarer, less exercised decoders (TGA, PCX, EPS …) away from untrusted input.
_PHOTO_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")


class UploadLike(Protocol):
    """What we need from an upload: Django's UploadedFile fits, so does an open file with a name."""

    name: str | None

    def read(self, size: int = ..., /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class ProcessedPhoto:
    content: bytes
    thumbnail: bytes
    width: int
    height: int
    thumbnail_width: int
    thumbnail_height: int
    sha256: str
    content_type: str = PHOTO_CONTENT_TYPE
    extension: str = "jpg"


@dataclass(frozen=True, slots=True)
class ProcessedVoice:
    content: bytes
    content_type: str
    extension: str
    duration_seconds: float
    sha256: str


@dataclass(frozen=True, slots=True)
class ProcessedDocument:
    content: bytes
    name: str  # for people to tell documents apart: the sender's file name, cleaned
    sha256: str
    content_type: str = "application/pdf"
    extension: str = "pdf"


# --------------------------------------------------------------------------------------------- reading


def _megabytes(n: int) -> str:
    """15728640 → "15MB", 2621440 → "2.5MB", 10000 → "10KB"."""
    if n < 1024 * 1024:
        return f"{n / 1024:.0f}KB"
    value = n / (1024 * 1024)
    return f"{value:.0f}MB" if value >= 10 or value == int(value) else f"{value:.1f}MB"


def _read_limited(upload: UploadLike, limit: int, too_large: DomainError, empty: DomainError) -> bytes:
    """All the bytes of the upload, refusing before reading when the declared size is already too big."""
    size = getattr(upload, "size", None)
    if isinstance(size, int) and size > limit:
        raise too_large
    seek = getattr(upload, "seek", None)
    if callable(seek):
        try:
            seek(0)
        except (OSError, ValueError):
            pass  # a stream that cannot rewind: read what is left
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise too_large
    if not data:
        raise empty
    return data


# ---------------------------------------------------------------------------------------------- photos

_decode_slots_lock = threading.Lock()
_decode_slots: tuple[int, threading.BoundedSemaphore] | None = None


def _decode_slot() -> threading.BoundedSemaphore:
    """The process's decoding slots. Made on first use from the setting (and again if a test changes it),
    so importing this module reads no settings."""
    global _decode_slots
    size: int = settings.UPLOAD_PHOTO_CONCURRENT_DECODES
    with _decode_slots_lock:
        if _decode_slots is None or _decode_slots[0] != size:
            _decode_slots = (size, threading.BoundedSemaphore(size))
        return _decode_slots[1]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None elsewhere (musl has none)."""
    import ctypes
    import ctypes.util

    try:
        trim: Callable[[int], int] = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


# Decodes from here up are worth giving back to the system at once (a 12 MP phone photo drafts to 3 MP).
_TRIM_AFTER_PIXELS = 4_000_000


# EXIF orientation → the transpose that brings the picture upright (what ImageOps.exif_transpose does; done
# here by hand so it can run on the downscaled picture instead of copying the full-size one).
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orientation(im: Image.Image) -> Image.Transpose | None:
    try:
        return _ORIENTATION.get(im.getexif().get(ExifTags.Base.Orientation, 1))
    except Exception:  # a damaged EXIF block must not cost the resident the photo
        return None


@functools.cache
def _register_heif() -> None:
    """Teach Pillow to open HEIC/HEIF (iPhones and many Android phones) — once per process."""
    from pillow_heif import register_heif_opener

    # No embedded thumbnails: we only ever want the primary picture.
    register_heif_opener(thumbnails=False)


@functools.cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _photo_label(index: int | None) -> str:
    if index is None:
        return _("照片")
    return _("第%(n)d张照片") % {"n": index}


def _photo_error(message: str, code: str) -> DomainError:
    return DomainError(message, code=code, field="photos")


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info)


def _to_resizable(im: Image.Image) -> Image.Image:
    """Bring exotic modes to one that resizes smoothly: RGB, RGBA, L, CMYK or 16-bit grey (palette images
    resize only with NEAREST)."""
    if im.mode in ("RGB", "RGBA", "L", "CMYK") or im.mode.startswith("I;16"):
        return im
    return im.convert("RGBA" if _has_alpha(im) else "RGB")


def _to_8_bits(im: Image.Image) -> Image.Image:
    """16-bit greys (PNG): scale to 8 bits instead of clipping everything above 255 to white. Done after
    downscaling: the 32-bit steps on the way would take 8 bytes a pixel at full size."""
    if im.mode.startswith("I;16"):
        return im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    return im


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Plain 8-bit sRGB without alpha: transparent areas on white, colours through the ICC profile when
    the picture carries one (Display P3 from iPhones, CMYK from scanners), so dropping it changes nothing."""
    if im.mode == "RGBA":
        background = Image.new("RGBA", im.size, (255, 255, 255, 255))
        background.alpha_composite(im)
        im = background.convert("RGB")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(im, source, _srgb_profile(), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # a broken or mismatched profile: fall back to the plain conversion
        if converted is not None:
            im = converted
    if im.mode != "RGB":
        im = im.convert("RGB")
    return im


def _encode_jpeg(im: Image.Image, quality: int) -> bytes:
    # A fresh image carries no info dict at all, so nothing (exif, xmp, comment, icc_profile, dpi) can be
    # written back by the encoder even if a future Pillow starts copying im.info into the file.
    clean = Image.new("RGB", im.size)
    clean.paste(im)
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()


def process_photo(upload: UploadLike, *, index: int | None = None) -> ProcessedPhoto:
    """Check one uploaded photo and return a downscaled JPEG without metadata, plus a thumbnail.

    `index` is the photo's 1-based position in the form, used only in messages ("第2张照片…").
    Raises DomainError(field="photos") when the file is too large, not an image we accept, damaged, or
    has too many pixels to decode safely.
    """
    label = _photo_label(index)
    limit: int = settings.UPLOAD_PHOTO_MAX_BYTES
    data = _read_limited(
        upload,
        limit,
        too_large=_photo_error(
            _("%(photo)s太大，每张照片不能超过%(limit)s。") % {"photo": label, "limit": _megabytes(limit)},
            "photo_too_large",
        ),
        empty=_photo_error(_("%(photo)s是空文件，请重新选择。") % {"photo": label}, "photo_empty"),
    )
    not_an_image = _photo_error(
        _("%(photo)s不是支持的图片格式（支持JPEG、PNG、WebP、HEIC）。") % {"photo": label}, "photo_type"
    )
    damaged = _photo_error(_("%(photo)s已损坏或不完整，无法读取，请重新拍摄或选择。") % {"photo": label},
                           "photo_corrupt")
    max_pixels: int = settings.UPLOAD_PHOTO_MAX_PIXELS
    if Image.MAX_IMAGE_PIXELS is not None:  # someone lowered Pillow's own limit further: keep to it too
        max_pixels = min(max_pixels, Image.MAX_IMAGE_PIXELS)
    too_many_pixels = _photo_error(
        # Chinese counts pixels in 万 (5000万像素), English in millions: the catalogue picks its own number.
        _("%(photo)s的像素太多（超过%(wan)s万像素），无法处理，请换一张或先缩小后再上传。")
        % {"photo": label, "wan": f"{max_pixels / 10_000:g}", "millions": f"{max_pixels / 1_000_000:g}"},
        "photo_too_many_pixels",
    )

    _register_heif()
    try:
        # Lazy: reads the header (format, size, metadata), decodes no pixel.
        im = Image.open(io.BytesIO(data), formats=_PHOTO_FORMATS)
    except Image.DecompressionBombError:
        raise too_many_pixels from None
    except Exception:  # UnidentifiedImageError, or any decoder choking on the header: not an image for us
        raise not_an_image from None

    with im:
        # Decoders allocate what the header declares, so refusing on it keeps every pixel buffer under the
        # cap; Pillow itself only warns below twice its own, much higher, limit.
        if im.width * im.height > max_pixels:
            raise too_many_pixels
        try:
            icc = im.info.get("icc_profile") or None
            im.seek(0)  # animated PNG/WebP: the first frame; before draft(), which sets up what is decoded
            # JPEG can decode straight at 1/2, 1/4 or 1/8 scale: much faster and far less memory for a
            # 12-50 MP phone photo. draft() never goes below the requested size. HEIF, PNG and WebP
            # cannot; the pixel cap bounds them.
            if im.format in ("JPEG", "MPO"):
                ratio = PHOTO_MAX_SIDE / max(im.size)
                if ratio < 1:
                    im.draft("RGB", (math.ceil(im.width * ratio), math.ceil(im.height * ratio)))
            with _decode_slot():
                # Only the full-size pixels are held here: the slot is given back once they are gone.
                im.load()
                decoded_pixels = im.width * im.height
                if decoded_pixels > max_pixels:  # a decoder that made more than its header said
                    raise too_many_pixels
                orientation = _orientation(im)
                frame = _to_resizable(im)
                if frame is not im:
                    im.close()  # the converted copy is all we need: free the decoded original now
                # In place and never upscaling: the full-size buffer is released as it returns.
                frame.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.Resampling.LANCZOS)
            trim = _malloc_trim() if decoded_pixels >= _TRIM_AFTER_PIXELS else None
            if trim is not None:
                # Pillow's 16 MB blocks come from malloc's heap once glibc has raised its mmap threshold,
                # and a freed heap is kept by the process: four big PNGs at once left a worker holding
                # ~300 MB for good. Trimming costs a few milliseconds.
                trim(0)
            frame = _to_8_bits(frame)
            if orientation is not None:  # turned upright after downscaling: the box is square
                frame = frame.transpose(orientation)
            frame = _to_srgb(frame, icc if isinstance(icc, bytes) else None)
            thumb = frame.copy()
            thumb.thumbnail((PHOTO_THUMB_SIDE, PHOTO_THUMB_SIDE), Image.Resampling.LANCZOS)
            content = _encode_jpeg(frame, PHOTO_QUALITY)
            thumbnail = _encode_jpeg(thumb, PHOTO_THUMB_QUALITY)
        except DomainError:
            raise
        except Image.DecompressionBombError:
            raise too_many_pixels from None
        except Exception:  # truncated data, broken chunks, decoder errors: damaged, never a 500
            raise damaged from None

    return ProcessedPhoto(
        content=content,
        thumbnail=thumbnail,
        width=frame.width,
        height=frame.height,
        thumbnail_width=thumb.width,
        thumbnail_height=thumb.height,
        sha256=hashlib.sha256(content).hexdigest(),
    )


# ------------------------------------------------------------------------------------------ voice notes


class _Corrupt(Exception):
    """Raised inside the readers; turned into a DomainError by process_voice."""


class _Truncated(_Corrupt):
    pass


class _NotAudio(_Corrupt):
    pass


def _voice_error(message: str, code: str) -> DomainError:
    return DomainError(message, code=code, field="voice")


def _sniff_voice(data: bytes) -> tuple[str, str, str] | None:
    """(kind, content type, extension) from the first bytes, or None."""
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm", "audio/webm", "webm"  # refined to Matroska by the reader if the DocType says so
    if data.startswith(b"OggS"):
        return "ogg", "audio/ogg", "ogg"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand.startswith((b"3gp", b"3g2")):
            return "mp4", "audio/3gpp", "3gp"
        return "mp4", "audio/mp4", "m4a"
    if data.startswith(b"#!AMR-WB\n"):
        return "amr-wb", "audio/amr-wb", "awb"
    if data.startswith(b"#!AMR\n"):
        return "amr", "audio/amr", "amr"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav", "audio/wav", "wav"
    if data.startswith(b"ID3"):
        return "mp3", "audio/mpeg", "mp3"
    # An MPEG audio frame sync: 11 set bits, then a version that is not "reserved" and a layer that is not
    # 00 (layer 00 is AAC's ADTS, which we do not take).
    if len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and (data[1] >> 1) & 3 and \
            (data[1] >> 3) & 3 != 1:
        return "mp3", "audio/mpeg", "mp3"
    return None


# --- WebM / Matroska --------------------------------------------------------------------------------
#
# EBML, Matroska's container syntax, is a tree of elements: ID, size, payload. IDs and sizes are
# "variable-size integers" (VINTs): the number of leading zero bits of the first byte, plus one, is the
# length in bytes (1000 0001 = 1 byte, 0100 0000 0000 0010 = 2 bytes …). For IDs the marker bit is kept
# as part of the ID; for sizes it is removed, and a size whose value bits are all ones means "unknown":
# the element runs until something that cannot be its child appears. Live writers — Chromium's and
# Firefox's MediaRecorder among them — write the Segment and every Cluster with unknown size and never
# go back to fill in Info/Duration, so the duration has to be read off the blocks' timestamps:
# Cluster Timecode (absolute, in TimecodeScale units) + the block's signed 16-bit relative timecode.

_EBML = 0x1A45DFA3
_DOCTYPE = 0x4282
_SEGMENT = 0x18538067
_INFO = 0x1549A966
_TIMECODE_SCALE = 0x2AD7B1
_DURATION = 0x4489
_TRACKS = 0x1654AE6B
_TRACK_ENTRY = 0xAE
_TRACK_NUMBER = 0xD7
_TRACK_TYPE = 0x83
_CODEC_ID = 0x86
_CLUSTER = 0x1F43B675
_CLUSTER_TIMECODE = 0xE7
_SIMPLE_BLOCK = 0xA3
_BLOCK_GROUP = 0xA0
_BLOCK = 0xA1
_BLOCK_DURATION = 0x9B
# Children of a Segment: meeting one of these ends an unknown-size Cluster.
_SEGMENT_CHILDREN = {
    0x114D9B74,  # SeekHead
    _INFO,
    _TRACKS,
    _CLUSTER,
    0x1C53BB6B,  # Cues
    0x1941A469,  # Attachments
    0x1043A770,  # Chapters
    0x1254C367,  # Tags
}
_TRACK_TYPE_VIDEO = 1
_TRACK_TYPE_AUDIO = 2


def _read_vint(data: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int, bool]:
    """(value, length in bytes, is "unknown"). Raises _Truncated past the end, _Corrupt on a bad VINT."""
    if pos >= len(data):
        raise _Truncated
    first = data[pos]
    if first == 0:
        raise _Corrupt  # a VINT longer than 8 bytes: not valid EBML
    length = 9 - first.bit_length()  # 1xxxxxxx → 1, 01xxxxxx → 2, …, 00000001 → 8
    if pos + length > len(data):
        raise _Truncated
    value = int.from_bytes(data[pos:pos + length], "big")
    if keep_marker:
        return value, length, False
    value &= (1 << (7 * length)) - 1  # drop the length marker bit
    return value, length, value == (1 << (7 * length)) - 1


def _header(data: bytes, pos: int, limit: int) -> tuple[int, int, int | None]:
    """Read the element header at `pos`: (id, payload start, payload end or None for an unknown size).
    A known-size element reaching past `limit` (its parent's end, or the end of the file) is truncated."""
    element_id, id_len, _unknown = _read_vint(data, pos, keep_marker=True)
    if id_len > 4:
        raise _Corrupt  # Matroska IDs are at most 4 bytes long
    size, size_len, unknown = _read_vint(data, pos + id_len, keep_marker=False)
    payload = pos + id_len + size_len
    if unknown:
        return element_id, payload, None
    if payload + size > limit:
        raise _Truncated  # claims more bytes than the file (or its parent) holds: the upload was cut off
    return element_id, payload, payload + size


def _children(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(id, payload start, payload end) of each child of a known-size element; none may be unknown-size."""
    pos = start
    while pos < end:
        element_id, p_start, p_end = _header(data, pos, end)
        if p_end is None:
            raise _Corrupt  # only Segments and Clusters may have an unknown size
        yield element_id, p_start, p_end
        pos = p_end


def _uint(data: bytes, start: int, end: int) -> int:
    if end - start > 8:
        raise _Corrupt
    return int.from_bytes(data[start:end], "big")


def _opus_packet_ns(packet: bytes) -> int:
    """Duration of one Opus packet from its TOC byte (RFC 6716 §3.1), in nanoseconds; 0 if unreadable.
    Used so the last block counts to where it ends, not where it starts."""
    if not packet:
        return 0
    toc = packet[0]
    config = toc >> 3
    if config < 12:  # SILK-only: 10, 20, 40, 60 ms
        frame_us = (10_000, 20_000, 40_000, 60_000)[config % 4]
    elif config < 16:  # hybrid: 10, 20 ms
        frame_us = (10_000, 20_000)[config % 2]
    else:  # CELT-only: 2.5, 5, 10, 20 ms
        frame_us = (2_500, 5_000, 10_000, 20_000)[config % 4]
    code = toc & 3
    if code == 0:
        frames = 1
    elif code in (1, 2):
        frames = 2
    else:
        frames = packet[1] & 0x3F if len(packet) > 1 else 0
    return frame_us * frames * 1000


@dataclass
class _Webm:
    """What the walk over a WebM file has learnt so far."""

    doctype: str = ""
    timecode_scale: int = 1_000_000  # nanoseconds per tick; Matroska's default (1 ms)
    declared_duration: float | None = None  # in ticks, from Segment/Info/Duration, when the writer knew it
    audio_tracks: dict[int, str] | None = None  # track number → CodecID; None until Tracks is read
    has_video: bool = False
    first_ns: int | None = None  # earliest audio block start
    end_ns: int | None = None  # latest audio block end


def _webm_block(state: _Webm, data: bytes, start: int, end: int, cluster_tc: int | None,
                block_duration: int | None) -> None:
    """Note the time span of one SimpleBlock/Block: track number (VINT), int16 relative timecode, flags,
    then the frame data."""
    track, track_len, _unknown = _read_vint(data, start, keep_marker=False)
    header = start + track_len
    if header + 3 > end or cluster_tc is None:
        raise _Corrupt  # too short for a block header, or a block before its cluster's Timecode
    if state.audio_tracks is not None and track not in state.audio_tracks:
        return  # a block of another track: not the voice
    relative = struct.unpack(">h", data[header:header + 2])[0]
    flags = data[header + 2]
    begin_ns = (cluster_tc + relative) * state.timecode_scale
    codec = (state.audio_tracks or {}).get(track, "A_OPUS")
    if block_duration is not None:
        length_ns = block_duration * state.timecode_scale
    elif flags & 0x06 == 0 and codec == "A_OPUS":
        length_ns = _opus_packet_ns(data[header + 3:end])  # one unlaced Opus packet: its TOC byte says
    else:
        length_ns = 0  # laced frames or another codec: the block's start is as close as we get
    if state.first_ns is None or begin_ns < state.first_ns:
        state.first_ns = begin_ns
    if state.end_ns is None or begin_ns + length_ns > state.end_ns:
        state.end_ns = begin_ns + length_ns


def _webm_cluster(state: _Webm, data: bytes, start: int, end: int | None) -> int:
    """Walk one Cluster; return where it ends. An unknown-size cluster (end=None) ends at the first
    element that belongs to the Segment (usually the next Cluster) or at the end of the file."""
    limit = len(data) if end is None else end
    cluster_tc: int | None = None
    pos = start
    while pos < limit:
        element_id, p_start, p_end = _header(data, pos, limit)
        if end is None and element_id in _SEGMENT_CHILDREN:
            return pos
        if p_end is None:
            raise _Corrupt
        if element_id == _CLUSTER_TIMECODE:
            cluster_tc = _uint(data, p_start, p_end)
        elif element_id == _SIMPLE_BLOCK:
            _webm_block(state, data, p_start, p_end, cluster_tc, None)
        elif element_id == _BLOCK_GROUP:
            block: tuple[int, int] | None = None
            duration: int | None = None
            for child_id, c_start, c_end in _children(data, p_start, p_end):
                if child_id == _BLOCK:
                    block = (c_start, c_end)
                elif child_id == _BLOCK_DURATION:
                    duration = _uint(data, c_start, c_end)
            if block is not None:
                _webm_block(state, data, block[0], block[1], cluster_tc, duration)
        # anything else (Void, CRC-32, Position, PrevSize …) is skipped
        pos = p_end
    return limit


def _webm_info(state: _Webm, data: bytes, start: int, end: int) -> None:
    for element_id, p_start, p_end in _children(data, start, end):
        if element_id == _TIMECODE_SCALE:
            state.timecode_scale = _uint(data, p_start, p_end) or 1_000_000
        elif element_id == _DURATION:  # a float, 4 or 8 bytes, in TimecodeScale ticks
            raw = data[p_start:p_end]
            if len(raw) not in (0, 4, 8):
                raise _Corrupt
            if raw:
                state.declared_duration = struct.unpack(">f" if len(raw) == 4 else ">d", raw)[0]


def _webm_tracks(state: _Webm, data: bytes, start: int, end: int) -> None:
    audio: dict[int, str] = {}
    for element_id, p_start, p_end in _children(data, start, end):
        if element_id != _TRACK_ENTRY:
            continue
        number, track_type, codec = 0, 0, ""
        for child_id, c_start, c_end in _children(data, p_start, p_end):
            if child_id == _TRACK_NUMBER:
                number = _uint(data, c_start, c_end)
            elif child_id == _TRACK_TYPE:
                track_type = _uint(data, c_start, c_end)
            elif child_id == _CODEC_ID:
                codec = data[c_start:c_end].rstrip(b"\0").decode("ascii", "replace")
        if track_type == _TRACK_TYPE_AUDIO:
            audio[number] = codec
        elif track_type == _TRACK_TYPE_VIDEO:
            state.has_video = True
    state.audio_tracks = audio


def webm_duration(data: bytes) -> tuple[float, str]:
    """(seconds, DocType) of a WebM/Matroska audio file.

    The duration is the larger of Info/Duration (when the writer filled it in) and the span of the audio
    blocks (first block start → last block end), so a file cannot understate its length to slip past
    the limit. Raises _Truncated, _Corrupt or _NotAudio; process_voice turns them into messages.
    """
    state = _Webm()
    element_id, p_start, p_end = _header(data, 0, len(data))
    if element_id != _EBML or p_end is None:
        raise _Corrupt
    for child_id, c_start, c_end in _children(data, p_start, p_end):
        if child_id == _DOCTYPE:
            state.doctype = data[c_start:c_end].rstrip(b"\0").decode("ascii", "replace")
    if state.doctype not in ("webm", "matroska"):
        raise _NotAudio

    # The Segment follows the EBML header (perhaps after Void padding); its size is unknown in live files.
    pos = p_end
    while True:
        element_id, seg_start, seg_end = _header(data, pos, len(data))
        if element_id == _SEGMENT:
            break
        if seg_end is None:
            raise _Corrupt
        pos = seg_end
    limit = len(data) if seg_end is None else seg_end

    pos = seg_start
    while pos < limit:
        element_id, p_start, p_end = _header(data, pos, limit)
        if element_id == _CLUSTER:
            pos = _webm_cluster(state, data, p_start, p_end)
            continue
        if p_end is None:
            raise _Corrupt  # only Segments and Clusters may have an unknown size
        if element_id == _INFO:
            _webm_info(state, data, p_start, p_end)
        elif element_id == _TRACKS:
            _webm_tracks(state, data, p_start, p_end)
        pos = p_end  # SeekHead, Cues, Tags, Void …: skipped

    if state.audio_tracks is None:
        raise _Truncated  # no Tracks: cut off before the first cluster
    if state.has_video or not state.audio_tracks:
        raise _NotAudio  # a video, or no audio track at all: not a voice note
    if state.first_ns is None and state.declared_duration is None:
        raise _Truncated  # not one audio block
    seconds = 0.0
    if state.first_ns is not None and state.end_ns is not None:
        seconds = (state.end_ns - state.first_ns) / 1e9
    if state.declared_duration is not None:
        if not math.isfinite(state.declared_duration) or state.declared_duration < 0:
            raise _Corrupt
        seconds = max(seconds, state.declared_duration * state.timecode_scale / 1e9)
    return seconds, state.doctype


# --- AMR ------------------------------------------------------------------------------------------------
#
# The AMR storage format (RFC 4867 §5): a magic line, then frames of 20 ms each. Each frame starts with a
# one-byte header 0FFFFQ00 whose FT bits give the mode, and the mode fixes the frame's length. NO_DATA
# frames (FT 15) are one byte and still stand for 20 ms.

# Bytes after the header byte, per FT; None = reserved (not valid in a file).
_AMR_NB_SIZES: tuple[int | None, ...] = (12, 13, 15, 17, 19, 20, 26, 31, 5, 6, 5, 5, None, None, None, 0)
_AMR_WB_SIZES: tuple[int | None, ...] = (17, 23, 32, 36, 40, 46, 50, 58, 60, 5, None, None, None, None, 0, 0)


def amr_duration(data: bytes, *, wideband: bool) -> float:
    magic = b"#!AMR-WB\n" if wideband else b"#!AMR\n"
    sizes = _AMR_WB_SIZES if wideband else _AMR_NB_SIZES
    pos, frames = len(magic), 0
    while pos < len(data):
        size = sizes[(data[pos] >> 3) & 0x0F]
        if size is None:
            raise _Corrupt
        pos += 1 + size
        if pos > len(data):
            raise _Truncated
        frames += 1
    return frames * 0.020


# --- fragmented MP4 -------------------------------------------------------------------------------------
#
# MediaRecorder's MP4 (Chromium, and Safari's recorder) is *fragmented*: the moov box up front announces
# the track but holds no samples and a zero duration; the audio follows in moof+mdat pairs written as the
# recording goes. mutagen reads only moov, so it measures 0 s. Here the sample durations in each
# moof/traf/trun are added up (with the defaults from tfhd or moov/mvex/trex) and divided by the audio
# track's timescale (moov/trak/mdia/mdhd). ISO/IEC 14496-12 §8.8.

_MP4_CONTAINERS = {b"moov", b"trak", b"mdia", b"mvex", b"moof", b"traf"}


def _mp4_boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each box in [start, end)."""
    pos = start
    while pos < end:
        if pos + 8 > end:
            raise _Truncated
        size, box_type = struct.unpack(">I4s", data[pos:pos + 8])
        header = 8
        if size == 1:  # 64-bit size follows
            if pos + 16 > end:
                raise _Truncated
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
            header = 16
        elif size == 0:  # "to the end of the file"
            size = end - pos
        if size < header:
            raise _Corrupt
        if pos + size > end:
            raise _Truncated
        yield box_type, pos + header, pos + size
        pos += size


def _u32(data: bytes, pos: int, end: int) -> int:
    if pos + 4 > end:
        raise _Corrupt
    return int(struct.unpack(">I", data[pos:pos + 4])[0])


def fragmented_mp4_duration(data: bytes) -> float:
    """Seconds of audio in the movie fragments of an MP4 (0.0 when it has none)."""
    timescales: dict[int, int] = {}  # audio track ID → timescale
    default_durations: dict[int, int] = {}  # track ID → trex default_sample_duration
    spans: dict[int, tuple[int, int]] = {}  # track ID → (first decode time, last end), in its timescale

    def trak(start: int, end: int) -> None:
        track_id, timescale, handler = 0, 0, b""
        for box, p_start, p_end in _mp4_boxes(data, start, end):
            if box == b"tkhd":  # full box: version(1) flags(3), then times of 4 or 8 bytes, then track_ID
                track_id = _u32(data, p_start + (20 if data[p_start] == 1 else 12), p_end)
            elif box == b"mdia":
                for child, c_start, c_end in _mp4_boxes(data, p_start, p_end):
                    if child == b"mdhd":
                        timescale = _u32(data, c_start + (20 if data[c_start] == 1 else 12), c_end)
                    elif child == b"hdlr":  # version/flags(4) pre_defined(4) handler_type(4)
                        handler = data[c_start + 8:c_start + 12]
        if handler == b"soun" and timescale:
            timescales[track_id] = timescale

    def traf(start: int, end: int) -> None:
        track_id, default_duration, base, total = 0, None, None, 0
        for box, p_start, p_end in _mp4_boxes(data, start, end):
            if box == b"tfhd":
                flags = _u32(data, p_start, p_end) & 0xFFFFFF
                track_id = _u32(data, p_start + 4, p_end)
                pos = p_start + 8
                pos += 8 if flags & 0x01 else 0  # base_data_offset
                pos += 4 if flags & 0x02 else 0  # sample_description_index
                if flags & 0x08:
                    default_duration = _u32(data, pos, p_end)
            elif box == b"tfdt":  # the fragment's start on the track's timeline (32 or 64 bits)
                base = _u32(data, p_start + 4, p_end)
                if data[p_start] == 1:
                    base = (base << 32) | _u32(data, p_start + 8, p_end)
            elif box == b"trun":
                flags = _u32(data, p_start, p_end) & 0xFFFFFF
                count = _u32(data, p_start + 4, p_end)
                pos = p_start + 8
                pos += 4 if flags & 0x01 else 0  # data_offset
                pos += 4 if flags & 0x04 else 0  # first_sample_flags
                if flags & 0x100:  # each sample has its duration, then size/flags/offset as flagged
                    step = 4 * sum(1 for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit)
                    if pos + count * step > p_end:
                        raise _Corrupt
                    total += sum(_u32(data, pos + i * step, p_end) for i in range(count))
                else:
                    fallback = default_duration if default_duration is not None else \
                        default_durations.get(track_id, 0)
                    total += count * fallback
        # Where the fragment starts: its tfdt, else where the track's previous fragment ended. The tfdt
        # matters: Chromium gives each fragment's last sample a placeholder duration (1008 ticks instead
        # of 2880) and puts the true timeline in the next tfdt, so summing durations alone comes up short.
        first, last = spans.get(track_id, (base or 0, base or 0))
        begin = base if base is not None else last
        spans[track_id] = (min(first, begin), max(last, begin + total))

    def walk(start: int, end: int) -> None:
        for box, p_start, p_end in _mp4_boxes(data, start, end):
            if box == b"trak":
                trak(p_start, p_end)
            elif box == b"trex":  # version/flags, track_ID, default_sample_description_index, duration
                default_durations[_u32(data, p_start + 4, p_end)] = _u32(data, p_start + 12, p_end)
            elif box == b"traf":
                traf(p_start, p_end)
            elif box in _MP4_CONTAINERS:
                walk(p_start, p_end)

    walk(0, len(data))
    return max(
        ((spans[track][1] - spans[track][0]) / scale for track, scale in timescales.items() if track in spans),
        default=0.0,
    )


# --- through mutagen ------------------------------------------------------------------------------------


def _mutagen_duration(kind: str, data: bytes) -> float:
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis
    from mutagen.wave import WAVE

    stream = io.BytesIO(data)
    info: Any  # mutagen declares FileType.info as None on the base class
    if kind == "ogg":
        try:
            info = OggOpus(stream).info
        except Exception:  # not Opus: Vorbis is the other codec browsers put in Ogg
            stream.seek(0)
            info = OggVorbis(stream).info
    elif kind == "mp4":
        info = MP4(stream).info
        # Recorders write fragmented MP4, whose moov says 0 s; the fragments hold the real length.
        return max(float(info.length), fragmented_mp4_duration(data))
    elif kind == "mp3":
        info = MP3(stream).info
    else:
        info = WAVE(stream).info
        # mutagen takes the data chunk's size on trust; a WAV cut short claims more audio than it holds.
        byte_rate = info.sample_rate * info.channels * (info.bits_per_sample or 16) / 8
        if byte_rate and info.length * byte_rate > len(data):
            raise _Truncated
    return float(info.length)


def process_voice(upload: UploadLike) -> ProcessedVoice:
    """Recognise and measure one voice note; return its bytes unchanged with type, extension and length.

    Raises DomainError(field="voice") when the file is too large, not an audio format we take, damaged or
    cut off, shorter than 1 s or longer than the limit (UPLOAD_VOICE_MAX_SECONDS, 120 s by default).
    """
    limit: int = settings.UPLOAD_VOICE_MAX_BYTES
    max_seconds: float = settings.UPLOAD_VOICE_MAX_SECONDS
    min_seconds: float = settings.UPLOAD_VOICE_MIN_SECONDS
    data = _read_limited(
        upload,
        limit,
        too_large=_voice_error(_("语音文件太大，不能超过%(limit)s。") % {"limit": _megabytes(limit)},
                               "voice_too_large"),
        empty=_voice_error(_("语音文件是空的，请重新录制。"), "voice_empty"),
    )
    not_audio = _voice_error(
        _("语音不是支持的音频格式（支持WebM、Ogg、MP4/M4A、MP3、AMR、WAV）。"), "voice_type"
    )
    sniffed = _sniff_voice(data)
    if sniffed is None:
        raise not_audio
    kind, content_type, extension = sniffed
    try:
        if kind == "webm":
            seconds, doctype = webm_duration(data)
            if doctype == "matroska":
                content_type, extension = "audio/x-matroska", "mka"
        elif kind in ("amr", "amr-wb"):
            seconds = amr_duration(data, wideband=kind == "amr-wb")
        else:
            seconds = _mutagen_duration(kind, data)
    except _NotAudio:
        raise not_audio from None
    except _Truncated:
        raise _voice_error(_("语音文件不完整（可能上传时中断），请重新录制或上传。"), "voice_truncated") from None
    except Exception:  # _Corrupt, mutagen's errors, struct errors on garbage: damaged, never a 500
        raise _voice_error(_("语音文件已损坏，无法读取，请重新录制或上传。"), "voice_corrupt") from None

    if not math.isfinite(seconds) or seconds < 0:
        raise _voice_error(_("语音文件已损坏，无法读取，请重新录制或上传。"), "voice_corrupt")
    if seconds < min_seconds:
        raise _voice_error(_("语音太短（不足%(min)s秒），请重新录制。") % {"min": f"{min_seconds:g}"},
                           "voice_too_short")
    if seconds > max_seconds:
        raise _voice_error(
            _("语音长%(seconds)s秒，超过了%(max)s秒的上限，请缩短后重新录制。")
            % {"seconds": f"{seconds:.0f}", "max": f"{max_seconds:g}"},
            "voice_too_long",
        )
    return ProcessedVoice(
        content=data,
        content_type=content_type,
        extension=extension,
        duration_seconds=round(seconds, 3),
        sha256=hashlib.sha256(data).hexdigest(),
    )


# ------------------------------------------------------------------------------------------- documents

PDF_MAGIC = b"%PDF-"
_PDF_EOF = b"%%EOF"
DOCUMENT_NAME_MAX_LENGTH = 100
# Office files people will try first: zip (docx/xlsx/wps OOXML) and the old compound-file format (doc/xls).
_OFFICE_MAGICS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def _document_error(message: str, code: str) -> DomainError:
    return DomainError(message, code=code, field="documents")


def document_name(upload: UploadLike) -> str:
    """The sender's file name without folders or control characters, at most DOCUMENT_NAME_MAX_LENGTH
    characters and ending in .pdf; "文件.pdf" when it has none."""
    raw = (getattr(upload, "name", None) or "").replace("\\", "/").rpartition("/")[2]
    stem = "".join(ch for ch in raw if ch.isprintable()).strip()
    if stem.lower().endswith(".pdf"):
        stem = stem[:-4].rstrip()
    stem = stem[:DOCUMENT_NAME_MAX_LENGTH - 4] or _("文件")
    return f"{stem}.pdf"


def process_document(upload: UploadLike) -> ProcessedDocument:
    """Check one PDF document; return its bytes unchanged with a clean display name.

    Raises DomainError(field="documents") when the file is empty, too large (UPLOAD_DOCUMENT_MAX_BYTES),
    not a PDF (a Word or Excel file gets a hint), or cut short.
    """
    limit: int = settings.UPLOAD_DOCUMENT_MAX_BYTES
    data = _read_limited(
        upload,
        limit,
        too_large=_document_error(_("文件太大，不能超过%(limit)s。") % {"limit": _megabytes(limit)},
                                  "document_too_large"),
        empty=_document_error(_("文件是空的，请重新选择。"), "document_empty"),
    )
    if not data.startswith(PDF_MAGIC):
        if data.startswith(_OFFICE_MAGICS):
            raise _document_error(_("只能上传PDF文件。Word、Excel、WPS文件请先“另存为”或“输出为”PDF再上传。"),
                                  "document_office")
        raise _document_error(_("只能上传PDF文件；照片请用“照片”一栏上传。"), "document_type")
    # Readers look for the end marker in the last 1024 bytes; without it the upload was cut short.
    if _PDF_EOF not in data[-1024:]:
        raise _document_error(_("PDF文件不完整（可能上传时中断），请重新上传。"), "document_truncated")
    return ProcessedDocument(content=data, name=document_name(upload), sha256=hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class StoredPhoto:
    """A checked photo written to storage: its file and thumbnail names, content type and digest."""

    file: str
    thumbnail: str
    content_type: str
    sha256: str


def store_photos(photos: Sequence[UploadLike], *, folder: str, limit: int) -> list[StoredPhoto]:
    """Check and store photos before the caller's transaction (decoding takes a while), under
    `folder`/YYYY/MM/. More than `limit`, or any bad photo, raises DomainError and stores nothing. The caller
    removes them with `delete_stored` if its write fails."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    if len(photos) > limit:
        raise DomainError(_("最多上传%(n)d张照片。") % {"n": limit}, field="photos")
    processed = [process_photo(upload, index=i) for i, upload in enumerate(photos, start=1)]
    where = f"{folder}/{timezone.localdate():%Y/%m}"
    stored = []
    for photo in processed:
        stem = uuid.uuid4().hex
        name = default_storage.save(f"{where}/{stem}.{photo.extension}", ContentFile(photo.content))
        thumb = default_storage.save(f"{where}/thumbs/{stem}-thumb.{photo.extension}", ContentFile(photo.thumbnail))
        stored.append(StoredPhoto(name, thumb, photo.content_type, photo.sha256))
    return stored


def delete_stored(stored: Sequence[StoredPhoto]) -> None:
    from django.core.files.storage import default_storage

    for photo in stored:
        default_storage.delete(photo.file)
        default_storage.delete(photo.thumbnail)
