"""Photo and video uploads: type sniffed from content, size capped, images re-encoded without EXIF/GPS.

The reporter's original bytes are kept for the handler (evidence); the public copy shown back on the tracking page
is a fresh encode that carries no metadata. Image dimensions are checked before decoding, and Pillow's own
decompression-bomb guard is turned into a rejection, so a small file cannot expand into gigabytes in memory.
"""
from __future__ import annotations

import hashlib
import io
import os
import warnings
from dataclasses import dataclass

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from portal.complaints import videocheck
from portal.core.storage import Store

IMAGE_TYPES = {"JPEG": ("image/jpeg", ("jpg", "jpeg")), "PNG": ("image/png", ("png",)),
               "WEBP": ("image/webp", ("webp",))}
VIDEO_TYPES = {"video/mp4": ("mp4", "m4v"), "video/quicktime": ("mov",), "video/webm": ("webm",)}
ACCEPT_ATTRIBUTE = "image/jpeg,image/png,image/webp,video/mp4,video/quicktime,video/webm"
# The public copy is for looking at on a page, not evidence (the original is kept byte for byte): its long side is
# at most PUBLIC_MAX_SIDE pixels. JPEGs are decoded straight at the smallest 1/2^n scale that keeps the long side
# at least PUBLIC_MIN_SIDE (libjpeg DCT scaling; every block is still decoded, so the check is complete), which
# makes an 8-megapixel phone photo several times cheaper to check and re-encode, with no resampling pass.
PUBLIC_MAX_SIDE = 2048
PUBLIC_MIN_SIDE = 1024
ORIENTATION = 0x0112  # EXIF tag


class UploadRejected(ValueError):
    """The message is translated and names the file."""


@dataclass
class PreparedFile:
    kind: str  # image | video
    content_type: str
    ext: str
    original: bytes
    public: bytes | None
    sha256: str


def _extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _sniff_video(data: bytes) -> str | None:
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "video/quicktime" if data[8:12] == b"qt  " else "video/mp4"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm"
    return None


def _open_image(data: bytes, max_pixels: int, name: str) -> Image.Image | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.width * img.height > max_pixels:
                raise UploadRejected(_("%(name)s: the image is too large (%(w)s × %(h)s pixels).",
                                       name=name, w=img.width, h=img.height))
            if img.format == "JPEG":
                img.draft("RGB", (PUBLIC_MIN_SIDE, PUBLIC_MIN_SIDE))
            img.load()
            return img
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected(_("%(name)s: the image is too large to process.", name=name)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None


def _reencode(img: Image.Image) -> bytes:
    """A new JPEG (PNG when transparent) from the pixels only: no EXIF, GPS, XMP or comments survive."""
    if img.getexif().get(ORIENTATION, 1) != 1:
        img = ImageOps.exif_transpose(img)
    if max(img.size) > PUBLIC_MAX_SIDE:
        img = img.copy()
        img.thumbnail((PUBLIC_MAX_SIDE, PUBLIC_MAX_SIDE))
    out = io.BytesIO()
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        clean = Image.new("RGBA", img.size)
        clean.paste(img.convert("RGBA"))
        clean.save(out, format="PNG", optimize=True)
    else:
        clean = Image.new("RGB", img.size)
        clean.paste(img if img.mode == "RGB" else img.convert("RGB"))
        clean.save(out, format="JPEG", quality=85)
    return out.getvalue()


def prepare_upload(filename: str, stream, max_bytes: int, max_pixels: int) -> PreparedFile:
    """Read at most max_bytes + 1 bytes, sniff the type, check the name matches it, build the public copy."""
    name = os.path.basename(filename or "") or _("the file")
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadRejected(_("%(name)s is larger than %(mb)s MB.", name=name, mb=max_bytes // (1024 * 1024)))
    if not data:
        raise UploadRejected(_("%(name)s is empty.", name=name))
    ext = _extension(name)
    video = _sniff_video(data)
    if video:
        if ext not in VIDEO_TYPES[video]:
            raise UploadRejected(_("%(name)s is a video but its name does not end in %(exts)s.",
                                   name=name, exts=", ".join("." + e for e in VIDEO_TYPES[video])))
        if not videocheck.verify(data, video):
            raise UploadRejected(_("%(name)s starts like a video but its contents cannot be checked as a complete MP4, "
                                   "MOV or WebM file; send the file as the camera saved it.", name=name))
        return PreparedFile("video", video, ext, data, None, hashlib.sha256(data).hexdigest())
    img = _open_image(data, max_pixels, name)
    if img is None or img.format not in IMAGE_TYPES:
        raise UploadRejected(_("%(name)s is not a JPEG, PNG or WebP photo or an MP4, MOV or WebM video.",
                               name=name))
    content_type, exts = IMAGE_TYPES[img.format]
    if ext not in exts:
        raise UploadRejected(_("%(name)s is a %(kind)s image but its name ends in .%(ext)s; rename it to .%(good)s.",
                               name=name, kind=img.format, ext=ext or "", good=exts[0]))
    return PreparedFile("image", content_type, ext, data, _reencode(img), hashlib.sha256(data).hexdigest())


def store(prepared: PreparedFile, root: Store) -> tuple[str, str | None]:
    """Write the original and the public copy into the store (keys from the content hash: the same bytes are
    written once); returns the keys."""
    sha = prepared.sha256
    original = f"originals/{sha[:2]}/{sha}.{prepared.ext}"
    root.put_new(original, prepared.original)
    public = None
    if prepared.public is not None:
        public_ext = "png" if prepared.public[:8] == b"\x89PNG\r\n\x1a\n" else "jpg"
        public = f"public/{sha[:2]}/{sha}.{public_ext}"
        root.put_new(public, prepared.public)
    return original, public
