"""Videos are verified past their first bytes (issue 20): the whole container structure must parse.

MP4/MOV (ISO base media, QuickTime): boxes must tile the file exactly, `ftyp` first, one `moov` holding `mvhd`
and at least one complete track (`trak` > `tkhd`, `mdia` > `mdhd`, `hdlr`, `minf` > `stbl`), media data present,
and every chunk offset of every track inside the file. WebM (Matroska/EBML): the EBML header with DocType webm,
then a Segment whose elements are all known Segment-level elements of sizes that fit, with Info, Tracks and at
least one Cluster. A file that does not parse is refused: it cannot be checked, so it is not kept.

This is a structural check (no decoder runs on the portal); a valid header followed by random bytes fails it.
"""
from __future__ import annotations

MAX_DEPTH = 8


class BadVideo(ValueError):
    pass


# ---- ISO base media (MP4, MOV) ----------------------------------------------------------------------------------

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf"}


def _boxes(data: bytes, start: int, end: int, top: bool = False):
    pos = start
    while pos < end:
        if end - pos < 8:
            raise BadVideo("trailing bytes")
        size, kind, header = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4:pos + 8], 8
        if size == 1:
            if end - pos < 16:
                raise BadVideo("short large box")
            size, header = int.from_bytes(data[pos + 8:pos + 16], "big"), 16
        elif size == 0 and top:
            size = end - pos
        if size < header or pos + size > end:
            raise BadVideo(f"box {kind!r} does not fit")
        if not all(0x20 <= b < 0x7F or b == 0xA9 for b in kind):
            raise BadVideo("box type is not text")
        yield kind, pos + header, pos + size
        pos += size


def _children(data: bytes, start: int, end: int) -> dict[bytes, list[tuple[int, int]]]:
    found: dict[bytes, list[tuple[int, int]]] = {}
    for kind, s, e in _boxes(data, start, end):
        found.setdefault(kind, []).append((s, e))
    return found


def _need(found: dict, *kinds: bytes) -> None:
    for kind in kinds:
        if kind not in found:
            raise BadVideo(f"missing {kind!r}")


def _chunk_offsets(data: bytes, s: int, e: int, wide: bool) -> list[int]:
    if e - s < 8:
        raise BadVideo("short offset table")
    count = int.from_bytes(data[s + 4:s + 8], "big")
    width = 8 if wide else 4
    if 8 + count * width > e - s:
        raise BadVideo("offset table does not fit")
    return [int.from_bytes(data[s + 8 + i * width:s + 8 + (i + 1) * width], "big") for i in range(count)]


def check_iso(data: bytes) -> None:
    top = list(_boxes(data, 0, len(data), top=True))
    if not top or top[0][0] != b"ftyp":
        raise BadVideo("ftyp is not first")
    kinds = [k for k, _, _ in top]
    if kinds.count(b"moov") != 1 or not ({b"mdat", b"moof"} & set(kinds)):
        raise BadVideo("one moov and media data are required")
    _, ms, me = next(t for t in top if t[0] == b"moov")
    moov = _children(data, ms, me)
    _need(moov, b"mvhd", b"trak")
    for ts, te in moov[b"trak"]:
        trak = _children(data, ts, te)
        _need(trak, b"tkhd", b"mdia")
        mdia = _children(data, *trak[b"mdia"][0])
        _need(mdia, b"mdhd", b"hdlr", b"minf")
        minf = _children(data, *mdia[b"minf"][0])
        _need(minf, b"stbl")
        stbl = _children(data, *minf[b"stbl"][0])
        for kind, wide in ((b"stco", False), (b"co64", True)):
            for s, e in stbl.get(kind, []):
                if any(o >= len(data) for o in _chunk_offsets(data, s, e, wide)):
                    raise BadVideo("a chunk lies outside the file")


# ---- EBML (WebM) ------------------------------------------------------------------------------------------------

SEGMENT_CHILDREN = {0x114D9B74, 0x1549A966, 0x1654AE6B, 0x1F43B675, 0x1C53BB6B, 0x1043A770, 0x1254C367,
                    0x1941A469, 0xEC, 0xBF}
INFO, TRACKS, CLUSTER = 0x1549A966, 0x1654AE6B, 0x1F43B675


def _vint(data: bytes, pos: int, keep_marker: bool) -> tuple[int, int, bool]:
    if pos >= len(data):
        raise BadVideo("truncated")
    first = data[pos]
    length = 8 - first.bit_length() + 1 if first else 9
    if length > 8 or pos + length > len(data):
        raise BadVideo("bad variable-length integer")
    value = int.from_bytes(data[pos:pos + length], "big")
    if not keep_marker:
        value &= (1 << (7 * length)) - 1
    unknown = not keep_marker and value == (1 << (7 * length)) - 1
    return value, pos + length, unknown


def _element(data: bytes, pos: int) -> tuple[int, int, int, bool]:
    ident, pos, _ = _vint(data, pos, keep_marker=True)
    size, pos, unknown = _vint(data, pos, keep_marker=False)
    return ident, pos, size, unknown


def check_webm(data: bytes) -> None:
    ident, pos, size, unknown = _element(data, 0)
    if ident != 0x1A45DFA3 or unknown or pos + size > len(data):
        raise BadVideo("no EBML header")
    header_end, doctype = pos + size, None
    while pos < header_end:
        child, cpos, csize, _ = _element(data, pos)
        if cpos + csize > header_end:
            raise BadVideo("EBML header element does not fit")
        if child == 0x4282:
            doctype = data[cpos:cpos + csize]
        pos = cpos + csize
    if doctype != b"webm":
        raise BadVideo("not a WebM document")
    ident, pos, size, unknown = _element(data, header_end)
    if ident != 0x18538067:
        raise BadVideo("no Segment")
    end = len(data) if unknown else pos + size
    if end > len(data):
        raise BadVideo("Segment does not fit")
    seen = set()
    while pos < end:
        child, cpos, csize, cunknown = _element(data, pos)
        if child not in SEGMENT_CHILDREN:
            raise BadVideo("unknown Segment element")
        seen.add(child)
        if cunknown:
            if child != CLUSTER:
                raise BadVideo("unknown size outside a Cluster")
            break  # a live-recorded cluster runs to the end of the file
        if cpos + csize > end:
            raise BadVideo("Segment element does not fit")
        pos = cpos + csize
    if not {INFO, TRACKS, CLUSTER} <= seen:
        raise BadVideo("Info, Tracks and a Cluster are required")


def verify(data: bytes, content_type: str) -> bool:
    try:
        (check_webm if content_type == "video/webm" else check_iso)(data)
    except (BadVideo, IndexError, StopIteration):  # BadVideo is a ValueError; any parse failure refuses
        return False
    return True
