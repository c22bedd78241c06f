"""Photos and voice notes: every fixture is made here, with Pillow or by writing the bytes of the format."""

import hashlib
import importlib.util
import io
import math
import os
import random
import struct
import threading
import time
import wave
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageCms, ImageFile

from gongzhi.core import uploads
from gongzhi.core.errors import DomainError
from gongzhi.core.uploads import process_photo, process_voice

# ----------------------------------------------------------------------------------------------- helpers


def upload(data: bytes, name: str = "upload.bin", content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def two_halves(width: int, height: int) -> Image.Image:
    """Left half red, right half blue: shows which way a picture was turned."""
    im = Image.new("RGB", (width, height), (255, 0, 0))
    im.paste((0, 0, 255), (width // 2, 0, width, height))
    return im


def close(colour, expected, tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def refused(call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)
    return info.value


# ------------------------------------------------------------------------------------------------ photos


def phone_jpeg() -> bytes:
    """A 400×200 JPEG as a phone held upright writes it: orientation 6, GPS, XMP and a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Model X"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (36.0, 3.0, 30.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (103.0, 50.0, 2.25)
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><exif:GPSLatitude>36,3.5N</exif:GPSLatitude>' \
          b"</rdf:RDF></x:xmpmeta>"
    return encode(two_halves(400, 200), "JPEG", exif=exif, xmp=xmp, comment=b"home of Zhang San", quality=95)


def test_the_phone_jpeg_fixture_really_carries_gps_and_orientation():
    im = Image.open(io.BytesIO(phone_jpeg()))
    exif = im.getexif()
    assert exif[ExifTags.Base.Orientation] == 6
    assert exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"
    assert b"GPS" in phone_jpeg() and b"home of Zhang San" in phone_jpeg()


def test_jpeg_is_turned_upright_and_loses_all_metadata():
    photo = process_photo(upload(phone_jpeg(), "IMG_0001.JPG", "image/jpeg"))
    assert (photo.width, photo.height) == (200, 400)  # orientation 6 applied: width and height swapped
    out = Image.open(io.BytesIO(photo.content))
    assert out.format == "JPEG" and out.size == (200, 400)
    # The left (red) half of the sensor image is at the top once turned 90° clockwise.
    assert close(out.getpixel((100, 50)), (255, 0, 0), 30)
    assert close(out.getpixel((100, 350)), (0, 0, 255), 30)
    assert len(out.getexif()) == 0
    assert "exif" not in out.info and "xmp" not in out.info and "comment" not in out.info
    assert "icc_profile" not in out.info
    for raw in (photo.content, photo.thumbnail):
        for marker in (b"Exif", b"GPS", b"xmpmeta", b"PhoneMaker", b"Zhang San"):
            assert marker not in raw
    assert photo.content_type == "image/jpeg" and photo.extension == "jpg"
    assert photo.sha256 == hashlib.sha256(photo.content).hexdigest()


def test_output_is_a_progressive_jpeg_and_the_thumbnail_is_320_on_the_long_side():
    photo = process_photo(upload(encode(two_halves(1000, 600), "PNG")))
    out = Image.open(io.BytesIO(photo.content))
    assert out.info.get("progressive") or out.info.get("progression")
    thumb = Image.open(io.BytesIO(photo.thumbnail))
    assert thumb.format == "JPEG" and thumb.size == (320, 192) == (photo.thumbnail_width, photo.thumbnail_height)


def test_large_png_is_downscaled_to_1920_on_the_long_side():
    photo = process_photo(upload(encode(two_halves(5000, 3000), "PNG", compress_level=1), "big.png"))
    assert (photo.width, photo.height) == (1920, 1152)
    assert Image.open(io.BytesIO(photo.content)).size == (1920, 1152)


def test_tall_jpeg_is_downscaled_with_its_aspect_ratio():
    photo = process_photo(upload(encode(two_halves(3000, 4000), "JPEG")))
    assert (photo.width, photo.height) == (1440, 1920)


def test_small_image_is_not_upscaled():
    photo = process_photo(upload(encode(two_halves(640, 480), "JPEG")))
    assert (photo.width, photo.height) == (640, 480)
    assert Image.open(io.BytesIO(photo.thumbnail)).size == (320, 240)


def test_heic_from_a_phone_is_accepted():
    uploads._register_heif()
    heic = encode(two_halves(600, 400), "HEIF", quality=80)
    assert heic[4:12] == b"ftypheic"
    photo = process_photo(upload(heic, "IMG_0002.HEIC", "image/heic"))
    assert (photo.width, photo.height) == (600, 400)
    out = Image.open(io.BytesIO(photo.content))
    assert out.format == "JPEG" and close(out.getpixel((100, 200)), (255, 0, 0), 40)


def test_webp_is_accepted_and_an_animated_one_keeps_its_first_frame():
    frames = [Image.new("RGB", (300, 200), (0, 200, 0)), Image.new("RGB", (300, 200), (0, 0, 255))]
    animated = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(animated)).n_frames == 2
    photo = process_photo(upload(animated, "sticker.webp"))
    assert close(Image.open(io.BytesIO(photo.content)).getpixel((150, 100)), (0, 200, 0))


def test_animated_png_keeps_its_first_frame():
    frames = [Image.new("RGB", (120, 80), (255, 0, 0)), Image.new("RGB", (120, 80), (0, 0, 255))]
    apng = encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100)
    photo = process_photo(upload(apng))
    assert close(Image.open(io.BytesIO(photo.content)).getpixel((60, 40)), (255, 0, 0))


def test_cmyk_jpeg_comes_out_rgb():
    cmyk = Image.new("CMYK", (200, 100), (0, 255, 255, 0))  # red in ink
    photo = process_photo(upload(encode(cmyk, "JPEG")))
    out = Image.open(io.BytesIO(photo.content))
    assert out.mode == "RGB" and close(out.getpixel((100, 50)), (255, 0, 0), 20)


def test_palette_png_with_transparency_comes_out_rgb_on_white():
    im = Image.new("P", (100, 100), 0)
    im.putpalette([0, 0, 0, 0, 128, 0] + [0] * 762)
    im.paste(1, (50, 0, 100, 100))
    photo = process_photo(upload(encode(im, "PNG", transparency=0)))
    out = Image.open(io.BytesIO(photo.content))
    assert out.mode == "RGB"
    assert close(out.getpixel((10, 50)), (255, 255, 255))  # transparent → white, not black
    assert close(out.getpixel((90, 50)), (0, 128, 0))


@pytest.mark.parametrize("mode, colour, expected", [
    ("LA", (0, 0), (255, 255, 255)),  # fully transparent grey → white
    ("RGBA", (10, 20, 200, 255), (10, 20, 200)),
    ("L", 100, (100, 100, 100)),
])
def test_other_modes_come_out_rgb(mode, colour, expected):
    photo = process_photo(upload(encode(Image.new(mode, (64, 64), colour), "PNG")))
    out = Image.open(io.BytesIO(photo.content))
    assert out.mode == "RGB" and close(out.getpixel((32, 32)), expected, 6)


def test_16_bit_grey_png_is_scaled_not_clipped_to_white():
    photo = process_photo(upload(encode(Image.new("I;16", (64, 64), 32768), "PNG")))
    assert close(Image.open(io.BytesIO(photo.content)).getpixel((32, 32)), (128, 128, 128), 6)


def test_an_icc_profile_is_applied_then_dropped():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo = process_photo(upload(encode(Image.new("RGB", (64, 64), (200, 30, 30)), "JPEG", icc_profile=srgb)))
    out = Image.open(io.BytesIO(photo.content))
    assert "icc_profile" not in out.info
    assert close(out.getpixel((32, 32)), (200, 30, 30), 8)


def test_text_named_jpg_is_refused_with_the_photos_position():
    error = refused(process_photo, upload("不是图片".encode(), "photo.jpg", "image/jpeg"), index=2)
    assert error.field == "photos" and error.code == "photo_type"
    assert str(error.message) == "第2张照片不是支持的图片格式（支持JPEG、PNG、WebP、HEIC）。"


@pytest.mark.parametrize("make", [
    lambda: encode(Image.new("RGB", (50, 50)), "GIF"),
    lambda: encode(Image.new("RGB", (50, 50)), "BMP"),
    lambda: encode(Image.new("RGB", (50, 50)), "TIFF"),
    lambda: b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    lambda: b"%PDF-1.4\n",
    lambda: bytes(random.Random(7).randrange(256) for _ in range(5000)),
])
def test_other_formats_and_garbage_are_refused(make):
    error = refused(process_photo, upload(make(), "x.jpg", "image/jpeg"))
    assert error.code == "photo_type" and str(error.message).startswith("照片不是支持的图片格式")


def test_truncated_jpeg_is_refused_as_damaged():
    data = encode(Image.effect_noise((800, 600), 60).convert("RGB"), "JPEG")
    error = refused(process_photo, upload(data[: len(data) // 2]), index=1)
    assert error.code == "photo_corrupt" and "第1张照片" in str(error.message)


def test_empty_file_is_refused():
    assert refused(process_photo, upload(b"")).code == "photo_empty"


def test_oversized_file_is_refused_before_decoding(settings):
    settings.UPLOAD_PHOTO_MAX_BYTES = 2 * 1024 * 1024
    data = encode(Image.effect_noise((1500, 1500), 100).convert("RGB"), "PNG")
    assert len(data) > 2 * 1024 * 1024
    error = refused(process_photo, upload(data), index=3)
    assert error.code == "photo_too_large" and error.field == "photos"
    assert str(error.message) == "第3张照片太大，每张照片不能超过2MB。"


def test_oversized_stream_without_a_declared_size_is_refused(settings):
    settings.UPLOAD_PHOTO_MAX_BYTES = 1000

    class Stream(io.BytesIO):
        name = "x.jpg"

    assert refused(process_photo, Stream(encode(Image.new("RGB", (500, 500)), "PNG") + b"\0" * 1000)).code \
        == "photo_too_large"


def test_default_photo_limit_is_15_mb():
    class Huge(io.BytesIO):
        name = "huge.jpg"
        size = 15 * 1024 * 1024 + 1

    assert refused(process_photo, Huge(b"\xff\xd8")).code == "photo_too_large"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [40, 200])  # 1,600 px: above the limit (Pillow only warns); 40,000: far above
def test_decompression_bomb_is_refused(monkeypatch, side):
    data = encode(Image.new("RGB", (side, side)), "PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    error = refused(process_photo, upload(data), index=4)
    assert error.code == "photo_too_many_pixels" and "第4张照片的像素太多" in str(error.message)


# ------------------------------------------------------------------------------------------- voice: WAV


def wav(seconds: float, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(int(seconds * rate))
        ))
    return out.getvalue()


def test_wav_of_one_and_a_half_seconds_is_accepted():
    data = wav(1.5)
    voice = process_voice(upload(data, "note.bin"))
    assert voice.content == data and voice.content_type == "audio/wav" and voice.extension == "wav"
    assert voice.duration_seconds == pytest.approx(1.5, abs=0.01)
    assert voice.sha256 == hashlib.sha256(data).hexdigest()


def test_wav_under_a_second_is_refused():
    error = refused(process_voice, upload(wav(0.5)))
    assert error.code == "voice_too_short" and error.field == "voice"
    assert str(error.message) == "语音太短（不足1秒），请重新录制。"


def test_wav_over_two_minutes_is_refused():
    error = refused(process_voice, upload(wav(130)))
    assert error.code == "voice_too_long"
    assert str(error.message) == "语音长130秒，超过了120秒的上限，请缩短后重新录制。"


def test_voice_limits_follow_the_settings(settings):
    settings.UPLOAD_VOICE_MAX_SECONDS = 2
    assert refused(process_voice, upload(wav(3))).code == "voice_too_long"
    settings.UPLOAD_VOICE_MAX_BYTES = 10_000
    error = refused(process_voice, upload(wav(1.5)))
    assert error.code == "voice_too_large" and str(error.message) == "语音文件太大，不能超过10KB。"


def test_voice_over_5_mb_is_refused_by_default():
    assert refused(process_voice, upload(b"RIFF" + b"\0" * (5 * 1024 * 1024))).code == "voice_too_large"


def test_wav_cut_short_is_refused():
    data = wav(2)
    assert refused(process_voice, upload(data[: len(data) // 2])).code == "voice_truncated"


# ------------------------------------------------------------------------------------------ voice: WebM
#
# A tiny EBML writer: an element is its ID bytes, its size as a VINT, its payload. Unknown sizes (all
# value bits set) are what Chromium's MediaRecorder writes for the Segment and each Cluster.

UNKNOWN = b"\x01\xff\xff\xff\xff\xff\xff\xff"


def vint(n: int) -> bytes:
    for length in range(1, 9):
        if n < (1 << (7 * length)) - 1:
            return ((1 << (7 * length)) | n).to_bytes(length, "big")
    raise ValueError(n)


def el(element_id: int, payload: bytes | int | str | float, *, unknown: bool = False) -> bytes:
    if isinstance(payload, str):
        payload = payload.encode()
    elif isinstance(payload, float):
        payload = struct.pack(">d", payload)
    elif isinstance(payload, int):
        payload = payload.to_bytes(max(1, (payload.bit_length() + 7) // 8), "big")
    raw_id = element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
    return raw_id + (UNKNOWN if unknown else vint(len(payload))) + payload


OPUS_20MS = bytes([31 << 3])  # TOC byte: config 31 (CELT, fullband, 20 ms), one frame


def simple_block(track: int, relative_ms: int, packet: bytes = OPUS_20MS + b"\x55" * 40) -> bytes:
    return el(0xA3, vint(track) + struct.pack(">hB", relative_ms, 0x80) + packet)


def webm(
    seconds: float,
    *,
    duration_ms: float | None = None,
    live: bool = True,
    cluster_ms: int = 1000,
    frame_ms: int = 20,
    extra_tracks: bytes = b"",
    doctype: str = "webm",
) -> bytes:
    header = el(0x1A45DFA3, el(0x4286, 1) + el(0x42F7, 1) + el(0x42F2, 4) + el(0x42F3, 8)
                + el(0x4282, doctype) + el(0x4287, 4) + el(0x4285, 2))
    info = el(0x2AD7B1, 1_000_000) + el(0x4D80, "gongzhi-test") + el(0x5741, "gongzhi-test")
    if duration_ms is not None:
        info += el(0x4489, float(duration_ms))
    opus_head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 48000, 0, 0)
    track = el(0xAE, el(0xD7, 1) + el(0x73C5, 1) + el(0x83, 2) + el(0x86, "A_OPUS") + el(0x63A2, opus_head)
               + el(0xE1, el(0xB5, 48000.0) + el(0x9F, 1)))
    body = el(0x1549A966, info) + el(0x1654AE6B, track + extra_tracks)
    total_frames = round(seconds * 1000 / frame_ms)
    for start in range(0, total_frames * frame_ms, cluster_ms):
        blocks = b"".join(simple_block(1, t - start)
                          for t in range(start, min(start + cluster_ms, total_frames * frame_ms), frame_ms))
        body += el(0x1F43B675, el(0xE7, start) + blocks, unknown=live)
    return header + el(0x18538067, body, unknown=live)


def test_webm_from_media_recorder_without_duration_is_measured_from_its_blocks():
    data = webm(3.0)
    assert b"\x44\x89" not in data  # really no Duration element
    voice = process_voice(upload(data, "voice.webm", "audio/webm;codecs=opus"))
    # Last block starts at 2,980 ms; its Opus TOC says it lasts 20 ms.
    assert voice.duration_seconds == pytest.approx(3.0, abs=0.001)
    assert (voice.content_type, voice.extension) == ("audio/webm", "webm")
    assert voice.content == data


def test_webm_cluster_timecodes_count_not_just_block_offsets():
    # Clusters of 5 s: relative timecodes up to 4,980 ms on top of cluster timecodes 0 … 15,000.
    assert uploads.webm_duration(webm(17.5, cluster_ms=5000))[0] == pytest.approx(17.5, abs=0.001)


def test_webm_with_known_sizes_and_a_duration_element():
    data = webm(2.5, duration_ms=2500.0, live=False)
    assert process_voice(upload(data)).duration_seconds == pytest.approx(2.5, abs=0.001)


def test_webm_duration_element_is_used_when_blocks_say_less():
    assert uploads.webm_duration(webm(1.0, duration_ms=5000.0))[0] == pytest.approx(5.0)


def test_webm_that_understates_its_duration_is_still_refused_as_too_long():
    data = webm(130, duration_ms=1000.0, cluster_ms=10_000)
    error = refused(process_voice, upload(data))
    assert error.code == "voice_too_long"


def test_long_webm_without_duration_is_refused():
    assert refused(process_voice, upload(webm(121, cluster_ms=5000))).code == "voice_too_long"


def test_short_webm_is_refused():
    assert refused(process_voice, upload(webm(0.6))).code == "voice_too_short"


def test_matroska_doctype_is_accepted():
    voice = process_voice(upload(webm(2, doctype="matroska")))
    assert (voice.content_type, voice.extension) == ("audio/x-matroska", "mka")


def test_webm_with_a_video_track_is_not_a_voice_note():
    video = el(0xAE, el(0xD7, 2) + el(0x73C5, 2) + el(0x83, 1) + el(0x86, "V_VP8"))
    assert refused(process_voice, upload(webm(2, extra_tracks=video))).code == "voice_type"


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.999])
def test_truncated_webm_is_refused_with_a_clear_message(cut):
    data = webm(3.0)
    error = refused(process_voice, upload(data[: int(len(data) * cut)]))
    assert error.code == "voice_truncated" and error.field == "voice"
    assert str(error.message) == "语音文件不完整（可能上传时中断），请重新录制或上传。"


def test_webm_cut_inside_the_header_is_refused():
    data = webm(3.0)
    assert refused(process_voice, upload(data[:30])).code == "voice_truncated"


def test_every_cut_and_many_damaged_webms_give_a_domain_error_never_a_crash():
    data = webm(2.0, cluster_ms=500)
    rng = random.Random(42)
    for cut in range(1, len(data), 7):
        try:
            process_voice(upload(data[:cut]))
        except DomainError:
            pass
    for _ in range(300):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        try:
            process_voice(upload(bytes(damaged)))
        except DomainError:
            pass


@pytest.mark.parametrize("packet, ms", [
    (bytes([31 << 3]), 20),  # CELT 20 ms, one frame
    (bytes([(16 << 3) | 1]), 5),  # CELT 2.5 ms, two frames
    (bytes([(3 << 3) | 3, 3]), 180),  # SILK 60 ms, code 3 with three frames
    (bytes([(13 << 3)]), 20),  # hybrid 20 ms
    (b"", 0),
])
def test_opus_packet_durations(packet, ms):
    assert uploads._opus_packet_ns(packet) == ms * 1_000_000


# ------------------------------------------------------------------------------------------- voice: AMR


def amr(frames: int, *, wideband: bool = False, no_data: int = 0) -> bytes:
    if wideband:  # FT 8 (23.85 kbit/s): header 0 1000 1 00, then 60 bytes
        return b"#!AMR-WB\n" + (bytes([(8 << 3) | 4]) + b"\x11" * 60) * frames
    # FT 7 (12.2 kbit/s): header 0 0111 1 00, then 31 bytes; FT 15 (NO_DATA) is the header alone
    return b"#!AMR\n" + (bytes([(7 << 3) | 4]) + b"\x22" * 31) * frames + bytes([(15 << 3) | 4]) * no_data


def test_amr_nb_duration_counts_20_ms_frames():
    voice = process_voice(upload(amr(100, no_data=25), "rec.amr"))
    assert voice.duration_seconds == pytest.approx(2.5)
    assert (voice.content_type, voice.extension) == ("audio/amr", "amr")


def test_amr_wb_is_accepted():
    voice = process_voice(upload(amr(75, wideband=True)))
    assert voice.duration_seconds == pytest.approx(1.5)
    assert (voice.content_type, voice.extension) == ("audio/amr-wb", "awb")


def test_amr_too_long_and_truncated_and_reserved_modes():
    assert refused(process_voice, upload(amr(6100))).code == "voice_too_long"  # 122 s
    assert refused(process_voice, upload(amr(100)[:-5])).code == "voice_truncated"
    assert refused(process_voice, upload(amr(60) + bytes([(12 << 3) | 4]))).code == "voice_corrupt"


# ------------------------------------------------------------------------------------------- voice: MP3


def mp3(seconds: float) -> bytes:
    """MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, stereo: every frame a header and all-zero side information
    and main data, which decoders play as silence (part2_3_length 0: no coded bits)."""
    header = b"\xff\xfb\x90\x00"
    frame = header + b"\0" * (144 * 128_000 // 44_100 - 4)
    return frame * math.ceil(seconds * 44_100 / 1152)


def test_mp3_is_accepted_with_its_length():
    voice = process_voice(upload(mp3(3), "a.mp3"))
    assert (voice.content_type, voice.extension) == ("audio/mpeg", "mp3")
    assert voice.duration_seconds == pytest.approx(3.0, abs=0.05)


def test_mp3_behind_an_id3_tag_is_accepted():
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x00"  # an empty ID3v2.4 tag
    assert process_voice(upload(tag + mp3(2))).duration_seconds == pytest.approx(2.0, abs=0.05)


def test_id3_tag_without_audio_is_refused():
    assert refused(process_voice, upload(b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\0" * 500)).code == "voice_corrupt"


# ------------------------------------------------------------------------------------------ voice: Ogg


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        crc &= 0xFFFFFFFF
    return crc


def ogg_page(packet: bytes, *, sequence: int, granule: int, flags: int = 0) -> bytes:
    segments = [255] * (len(packet) // 255) + [len(packet) % 255]
    header = struct.pack("<4sBBqIII", b"OggS", 0, flags, granule, 0x474F4E47, sequence, 0)
    page = header + bytes([len(segments)]) + bytes(segments) + packet
    return page[:22] + struct.pack("<I", _ogg_crc(page)) + page[26:]


def ogg_opus(seconds: float, pre_skip: int = 312) -> bytes:
    """OpusHead, OpusTags, then one-packet pages of 20 ms (TOC byte only: a zero-length frame, which a
    decoder conceals as silence); the granule position counts 48 kHz samples including the pre-skip."""
    pages = [
        ogg_page(b"OpusHead" + struct.pack("<BBHIhB", 1, 1, pre_skip, 48000, 0, 0), sequence=0, granule=0,
                 flags=0x02),
        ogg_page(b"OpusTags" + struct.pack("<I", 4) + b"test" + struct.pack("<I", 0), sequence=1, granule=0),
    ]
    frames = round(seconds / 0.02)
    for n in range(1, frames + 1):
        pages.append(ogg_page(OPUS_20MS, sequence=n + 1, granule=pre_skip + n * 960,
                              flags=0x04 if n == frames else 0))
    return b"".join(pages)


def test_ogg_crc_matches_a_known_value():
    # CRC-32/MPEG-2 style without final xor and zero init: the Ogg checksum of "123456789" is 0x89A1897F.
    assert _ogg_crc(b"123456789") == 0x89A1897F


def test_ogg_opus_is_accepted_with_its_length():
    voice = process_voice(upload(ogg_opus(2.0), "voice.ogg"))
    assert (voice.content_type, voice.extension) == ("audio/ogg", "ogg")
    assert voice.duration_seconds == pytest.approx(2.0, abs=0.001)


def test_ogg_opus_too_long_is_refused():
    assert refused(process_voice, upload(ogg_opus(121))).code == "voice_too_long"


def test_ogg_that_is_neither_opus_nor_vorbis_is_refused():
    page = ogg_page(b"\x80theora" + b"\0" * 40, sequence=0, granule=0, flags=0x02)
    assert refused(process_voice, upload(page)).code == "voice_corrupt"


# ------------------------------------------------------------------------------------------ voice: MP4


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full_box(kind: bytes, version: int, flags: int, payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags) + payload)


def mp4(*, movie_seconds: float, fragments: list[tuple[int, list[int]]], brand: bytes = b"M4A ") -> bytes:
    """A minimal ISO-BMFF audio file: an audio track whose mdhd says `movie_seconds`, and movie fragments
    (tfdt, per-sample durations) as MediaRecorder writes them. Timescale 48,000."""
    scale = 48_000
    mvhd = full_box(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, 1000, int(movie_seconds * 1000)) + b"\0" * 80)
    tkhd = full_box(b"tkhd", 0, 3, struct.pack(">IIII", 0, 0, 1, 0) + b"\0" * 64)
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, scale, int(movie_seconds * scale), 0x55C4, 0))
    hdlr = full_box(b"hdlr", 0, 0, b"\0\0\0\0soun" + b"\0" * 12 + b"SoundHandler\0")
    esds = full_box(b"esds", 0, 0, bytes.fromhex("03190000000411401500000000000000000000000502119005800106"))
    mp4a = box(b"mp4a", b"\0" * 6 + struct.pack(">H", 1) + b"\0" * 8 + struct.pack(">HHHHI", 1, 16, 0, 0, scale << 16)
               + esds)
    stbl = box(b"stbl", full_box(b"stsd", 0, 0, struct.pack(">I", 1) + mp4a)
               + full_box(b"stts", 0, 0, b"\0\0\0\0") + full_box(b"stsc", 0, 0, b"\0\0\0\0")
               + full_box(b"stsz", 0, 0, b"\0" * 8) + full_box(b"stco", 0, 0, b"\0\0\0\0"))
    minf = box(b"minf", full_box(b"smhd", 0, 0, b"\0" * 4) + stbl)
    trak = box(b"trak", tkhd + box(b"mdia", mdhd + hdlr + minf))
    moov_children = mvhd + trak
    if fragments:
        moov_children += box(b"mvex", full_box(b"trex", 0, 0, struct.pack(">IIIII", 1, 1, 1024, 0, 0)))
    out = box(b"ftyp", brand + b"\0\0\0\0" + b"isomiso2") + box(b"moov", moov_children)
    for sequence, (base, durations) in enumerate(fragments, start=1):
        trun = full_box(b"trun", 0, 0x301, struct.pack(">II", len(durations), 0)
                        + b"".join(struct.pack(">II", d, 4) for d in durations))
        traf = box(b"traf", full_box(b"tfhd", 0, 0x020000, struct.pack(">I", 1))
                   + full_box(b"tfdt", 1, 0, struct.pack(">Q", base)) + trun)
        out += box(b"moof", full_box(b"mfhd", 0, 0, struct.pack(">I", sequence)) + traf)
        out += box(b"mdat", b"\0" * (4 * len(durations)))
    return out


def test_plain_m4a_is_measured_by_mutagen():
    voice = process_voice(upload(mp4(movie_seconds=4.5, fragments=[]), "a.m4a"))
    assert (voice.content_type, voice.extension) == ("audio/mp4", "m4a")
    assert voice.duration_seconds == pytest.approx(4.5, abs=0.01)


def test_fragmented_mp4_from_media_recorder_is_measured_from_its_fragments():
    # Like Chromium: moov says 0 s; fragments of nine 60 ms samples, the last with a placeholder duration
    # (1008 ticks) and the true timeline in the next fragment's tfdt.
    fragments = [(n * 9 * 2880, [2880] * 8 + [1008]) for n in range(5)]
    voice = process_voice(upload(mp4(movie_seconds=0, fragments=fragments)))
    assert voice.duration_seconds == pytest.approx((4 * 9 * 2880 + 8 * 2880 + 1008) / 48000, abs=0.001)


def test_3gp_brand_is_reported_as_3gpp():
    voice = process_voice(upload(mp4(movie_seconds=2, fragments=[], brand=b"3gp4")))
    assert (voice.content_type, voice.extension) == ("audio/3gpp", "3gp")


def test_truncated_fragmented_mp4_is_refused():
    data = mp4(movie_seconds=0, fragments=[(n * 48000, [4800] * 10) for n in range(3)])
    assert refused(process_voice, upload(data[:-7])).code == "voice_truncated"


# ------------------------------------------------------------------------------------------ voice: other


def test_random_bytes_are_refused():
    error = refused(process_voice, upload(os.urandom(4096), "voice.webm", "audio/webm"))
    assert error.code == "voice_type" and error.field == "voice"
    assert str(error.message) == "语音不是支持的音频格式（支持WebM、Ogg、MP4/M4A、MP3、AMR、WAV）。"


@pytest.mark.parametrize("data", [
    b"RIFF\x24\x00\x00\x00WAVEjunk" + os.urandom(100),
    b"OggS" + os.urandom(200),
    b"\x00\x00\x00\x18ftypM4A " + os.urandom(200),
    b"\x1a\x45\xdf\xa3" + os.urandom(200),
])
def test_right_magic_with_garbage_after_it_is_refused_not_a_crash(data):
    assert refused(process_voice, upload(data)).code in ("voice_corrupt", "voice_truncated", "voice_type")


def test_empty_voice_is_refused():
    assert refused(process_voice, upload(b"")).code == "voice_empty"


def test_text_named_mp3_is_refused():
    assert refused(process_voice, upload("你好".encode() * 100, "a.mp3", "audio/mpeg")).code == "voice_type"


def test_multi_picture_jpeg_from_a_phone_keeps_its_first_picture():
    first, depth_map = Image.new("RGB", (300, 200), (255, 0, 0)), Image.new("RGB", (300, 200), (0, 0, 255))
    mpo = encode(first, "MPO", save_all=True, append_images=[depth_map])
    assert Image.open(io.BytesIO(mpo)).format == "MPO"
    photo = process_photo(upload(mpo, "IMG_0003.JPG"))
    assert close(Image.open(io.BytesIO(photo.content)).getpixel((150, 100)), (255, 0, 0))


# ------------------------------------------------------------------------------- photos: memory bounds


def one_colour_png(width: int, height: int) -> bytes:
    """A valid black-and-white PNG written row by row: 9,400² px in 11 KB, without ever holding its pixels
    (Pillow would decode it to 88 MB, then convert it to 265 MB of RGB)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\0" + b"\0" * ((width + 7) // 8)  # filter byte, then 1 bit a pixel
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose header (SOF0) claims another size: what a decoder would allocate for."""
    data = bytearray(encode(Image.new("RGB", (16, 16), (90, 90, 90)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)  # marker(2) length(2) precision(1), then h, w
    return bytes(data)


@pytest.fixture
def no_decoding(monkeypatch):
    """Fails the test if any picture's pixels are decoded."""
    def refuse(self, *args, **kwargs):
        raise AssertionError(f"decoded a {self.size} picture")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def test_the_bomb_fixture_is_a_real_9400_square_png():
    data = one_colour_png(9400, 9400)
    assert len(data) < 20_000
    im = Image.open(io.BytesIO(data))
    assert (im.format, im.size) == ("PNG", (9400, 9400))
    assert im.width * im.height < Image.MAX_IMAGE_PIXELS  # just under Pillow's own limit: it would decode it


def test_decompression_bomb_png_is_refused_from_its_header_without_decoding(no_decoding):
    error = refused(process_photo, upload(one_colour_png(9400, 9400), "bomb.png", "image/png"), index=1)
    assert error.code == "photo_too_many_pixels" and error.field == "photos"
    assert str(error.message) == "第1张照片的像素太多（超过5000万像素），无法处理，请换一张或先缩小后再上传。"


def test_default_pixel_cap_is_50_megapixels(no_decoding):
    assert jpeg_claiming(8000, 6250)[:2] == b"\xff\xd8"  # 50,000,000 px: not refused for its size …
    assert refused(process_photo, upload(jpeg_claiming(8000, 6250))).code == "photo_corrupt"  # … only decoded
    error = refused(process_photo, upload(jpeg_claiming(8000, 6251)))
    assert error.code == "photo_too_many_pixels"


def test_jpeg_over_the_cap_is_refused_before_decoding(settings, no_decoding):
    assert Image.open(io.BytesIO(jpeg_claiming(10_000, 7_000))).size == (10_000, 7_000)
    error = refused(process_photo, upload(jpeg_claiming(10_000, 7_000), "IMG_0002.JPG"), index=2)
    assert error.code == "photo_too_many_pixels" and error.field == "photos"
    assert "第2张照片的像素太多（超过5000万像素）" in str(error.message)


def test_pixel_cap_follows_the_setting(settings):
    settings.UPLOAD_PHOTO_MAX_PIXELS = 1_000_000
    data = encode(two_halves(1250, 800), "JPEG")
    assert process_photo(upload(data)).width == 1250  # exactly 1,000,000 px
    error = refused(process_photo, upload(encode(two_halves(1251, 800), "JPEG")))
    assert error.code == "photo_too_many_pixels" and "超过100万像素" in str(error.message)


def test_twelve_megapixel_jpeg_is_decoded_at_reduced_size(monkeypatch):
    from PIL import JpegImagePlugin

    drafts, decoded = [], []
    draft, load = JpegImagePlugin.JpegImageFile.draft, ImageFile.ImageFile.load

    def spy_draft(self, mode, size):
        drafts.append(result := draft(self, mode, size))
        return result

    def spy_load(self):
        if self.tile:
            decoded.append(self.size)
        return load(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy_draft)
    monkeypatch.setattr(ImageFile.ImageFile, "load", spy_load)
    data = encode(two_halves(4000, 3000), "JPEG", quality=90)
    photo = process_photo(upload(data))
    assert (photo.width, photo.height) == (1920, 1440)
    assert len(photo.content) < len(data)
    # libjpeg scales by 1/2: the smallest scale still ≥ 1920 (thumbnail's own later call finds it loaded).
    assert [d for d in drafts if d] == [("RGB", (0, 0, 2000, 1500))]
    assert decoded == [(2000, 1500)]  # 3 MP decoded, not 12


def _decoding_watch(monkeypatch, seconds: float = 0.05):
    """Slows every decode down and records how many run at the same time."""
    load = ImageFile.ImageFile.load
    lock = threading.Lock()
    watch = {"now": 0, "most": 0}

    def slow_load(self):
        if not self.tile:  # already decoded: nothing to count
            return load(self)
        with lock:
            watch["now"] += 1
            watch["most"] = max(watch["most"], watch["now"])
        try:
            time.sleep(seconds)
            return load(self)
        finally:
            with lock:
                watch["now"] -= 1

    monkeypatch.setattr(ImageFile.ImageFile, "load", slow_load)
    return watch


def _in_threads(n: int, call) -> list:
    results: list = []

    def run():
        try:
            results.append(call())
        except Exception as error:  # noqa: BLE001 - the test looks at what came back
            results.append(error)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.parametrize("slots", [1, 2])
def test_decoding_slots_bound_how_many_photos_a_process_decodes_at_once(settings, monkeypatch, slots):
    settings.UPLOAD_PHOTO_CONCURRENT_DECODES = slots
    watch = _decoding_watch(monkeypatch)
    data = encode(two_halves(200, 100), "PNG")
    results = _in_threads(6, lambda: process_photo(upload(data)))
    assert len(results) == 6 and all(isinstance(r, uploads.ProcessedPhoto) for r in results)
    assert watch["most"] == slots


def test_a_refused_or_damaged_photo_gives_its_decoding_slot_back(settings):
    settings.UPLOAD_PHOTO_CONCURRENT_DECODES = 1
    data = encode(Image.effect_noise((800, 600), 60).convert("RGB"), "JPEG")
    for _ in range(3):
        assert refused(process_photo, upload(data[: len(data) // 2])).code == "photo_corrupt"
    results = _in_threads(1, lambda: process_photo(upload(encode(two_halves(64, 64), "PNG"))))
    assert len(results) == 1 and isinstance(results[0], uploads.ProcessedPhoto)  # did not wait forever


def test_the_benchmark_runs_on_a_tiny_size():
    path = Path(__file__).resolve().parents[3] / "bench" / "photos.py"
    spec = importlib.util.spec_from_file_location("bench_photos", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    figures = bench.main(["--png-side", "300", "--jpeg-size", "400x300", "--threads", "2"])
    assert set(figures) == {"png ×1", "png ×2", "jpeg ×1", "jpeg ×2"}
    assert figures["png ×1"]["outcomes"] == ["300x300"] and figures["jpeg ×2"]["outcomes"] == ["400x300"]
