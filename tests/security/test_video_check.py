"""Videos are checked past the header: a valid `ftyp` or EBML header followed by random bytes is refused, a
structurally complete MP4, MOV or WebM is accepted (issue 20)."""
from __future__ import annotations

import io
import random

import pytest

from portal.complaints.uploads import UploadRejected, prepare_upload
from portal.complaints.videocheck import verify

LIMIT = 10 * 1024 * 1024


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


def mp4(brand: bytes = b"isom", chunk_offset: int | None = None) -> bytes:
    ftyp = box(b"ftyp", brand + b"\x00\x00\x02\x00" + brand + b"mp41")
    media = b"\x00" * 64

    def build(offset: int) -> bytes:
        stco = box(b"stco", b"\x00" * 4 + (1).to_bytes(4, "big") + offset.to_bytes(4, "big"))
        stbl = box(b"stbl", box(b"stsd", b"\x00" * 8) + box(b"stts", b"\x00" * 8) + box(b"stsz", b"\x00" * 12) + stco)
        minf = box(b"minf", box(b"vmhd", b"\x00" * 12) + stbl)
        mdia = box(b"mdia", box(b"mdhd", b"\x00" * 24) + box(b"hdlr", b"\x00" * 8 + b"vide" + b"\x00" * 13) + minf)
        trak = box(b"trak", box(b"tkhd", b"\x00" * 84) + mdia)
        return ftyp + box(b"moov", box(b"mvhd", b"\x00" * 100) + trak)

    head = build(0)
    offset = chunk_offset if chunk_offset is not None else len(head) + 8
    return build(offset) + box(b"mdat", media)


def ebml(ident: int, payload: bytes) -> bytes:
    size = len(payload) | (1 << 56)  # 8-byte size
    return ident.to_bytes((ident.bit_length() + 7) // 8, "big") + size.to_bytes(8, "big") + payload


def webm() -> bytes:
    header = ebml(0x1A45DFA3, ebml(0x4282, b"webm"))
    segment = ebml(0x18538067, ebml(0x1549A966, b"\x2a\xd7\xb1\x83\x0f\x42\x40") + ebml(0x1654AE6B, b"\xae\x80")
                   + ebml(0x1F43B675, b"\xe7\x81\x00"))
    return header + segment


def noise(n: int) -> bytes:
    return random.Random(20).randbytes(n)


def test_complete_containers_pass():
    assert verify(mp4(), "video/mp4") and verify(mp4(b"qt  "), "video/quicktime") and verify(webm(), "video/webm")


@pytest.mark.parametrize("data,ctype", [
    (box(b"ftyp", b"isom\x00\x00\x02\x00isommp41") + noise(200_000), "video/mp4"),
    (mp4()[:-20], "video/mp4"),                              # truncated media data
    (mp4(chunk_offset=10_000_000), "video/mp4"),             # a chunk outside the file
    (mp4().replace(b"mvhd", b"xxxx"), "video/mp4"),          # no movie header
    (webm()[:40] + noise(100_000), "video/webm"),
    (ebml(0x1A45DFA3, ebml(0x4282, b"webm")) + noise(50_000), "video/webm"),
])
def test_a_valid_header_with_random_or_broken_contents_is_refused(data, ctype):
    assert not verify(data, ctype)


def test_the_upload_names_the_file_and_says_what_to_do(app):
    fake = box(b"ftyp", b"isom\x00\x00\x02\x00isommp41") + noise(300_000)
    with app.test_request_context():
        with pytest.raises(UploadRejected, match="clip.mp4"):
            prepare_upload("clip.mp4", io.BytesIO(fake), LIMIT, 10_000_000)
        assert prepare_upload("clip.mp4", io.BytesIO(mp4()), LIMIT, 10_000_000).kind == "video"
        assert prepare_upload("clip.webm", io.BytesIO(webm()), LIMIT, 10_000_000).kind == "video"


@pytest.mark.parametrize("seed", range(30))
def test_random_bytes_after_a_header_never_pass(seed):
    rnd = random.Random(seed)
    assert not verify(b"\x00\x00\x00\x18ftypisom" + rnd.randbytes(rnd.randint(0, 5000)), "video/mp4")
    assert not verify(b"\x1a\x45\xdf\xa3" + rnd.randbytes(rnd.randint(0, 5000)), "video/webm")
