"""The public copy of a photo: no metadata, upright, at most PUBLIC_MAX_SIDE pixels on its long side (a large JPEG
is decoded at a reduced scale); the original stays byte for byte for the handler."""
from __future__ import annotations

import io

from PIL import Image

from portal.complaints import uploads


def _jpeg(size, orientation: int | None = None, gps: bool = True) -> bytes:
    image = Image.new("RGB", size, "blue")
    image.paste(Image.new("RGB", (size[0] // 4, size[1] // 4), "red"), (0, 0))  # a red corner shows rotation
    exif = Image.Exif()
    if gps:
        exif[0x8825] = {1: "N", 2: (33.0, 46.0, 48.0), 3: "E", 4: (119.0, 15.0, 36.0)}
    if orientation:
        exif[uploads.ORIENTATION] = orientation
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=90, exif=exif)
    return buf.getvalue()


def _prepare(data: bytes, name: str = "photo.jpg") -> uploads.PreparedFile:
    return uploads.prepare_upload(name, io.BytesIO(data), 20 * 1024 * 1024, 40_000_000)


def test_a_phone_sized_photo_gets_a_smaller_public_copy_and_keeps_its_original():
    data = _jpeg((4000, 3000))
    prepared = _prepare(data)
    public = Image.open(io.BytesIO(prepared.public))
    assert uploads.PUBLIC_MIN_SIDE <= max(public.size) <= uploads.PUBLIC_MAX_SIDE
    assert public.size[0] > public.size[1]  # aspect kept
    assert prepared.original == data and len(prepared.public) < len(data)
    assert not public.getexif()


def test_a_small_photo_keeps_its_size():
    prepared = _prepare(_jpeg((800, 600)))
    assert Image.open(io.BytesIO(prepared.public)).size == (800, 600)


def test_a_large_png_is_scaled_down_too():
    buf = io.BytesIO()
    Image.new("RGB", (3000, 1000), "green").save(buf, format="PNG")
    public = Image.open(io.BytesIO(_prepare(buf.getvalue(), "scan.png").public))
    assert max(public.size) <= uploads.PUBLIC_MAX_SIDE


def test_the_orientation_tag_is_applied_and_then_dropped():
    prepared = _prepare(_jpeg((3200, 2400), orientation=6))  # 6: rotate 90° clockwise to view
    public = Image.open(io.BytesIO(prepared.public))
    assert public.size[1] > public.size[0] and not public.getexif()
    top_right = public.convert("RGB").getpixel((public.size[0] - 5, 5))
    assert top_right[0] > 200 and top_right[2] < 60  # the red corner moved from top-left to top-right
