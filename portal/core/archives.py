"""Spreadsheet archives are bounded before they are parsed (ASVS 12.1.2, issue 20: a 300 KB XLSX bomb).

XLSX is a ZIP archive: it is checked from its central directory before any member is inflated. Python's zipfile never
inflates a member past its declared size (the CRC check fails first), so the declared sizes bound what openpyxl can
read. The shared-strings table is the one part read-only mode holds in memory whole. Every XLSX upload (monitoring
results, the holiday schedule) goes through `xlsx_problem` before openpyxl sees it.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import IO

from flask_babel import gettext as _

XLSX_MAX_MEMBERS = 500
XLSX_MAX_UNCOMPRESSED = 200 * 1024 * 1024
XLSX_MAX_SHARED_STRINGS = 20 * 1024 * 1024
XLSX_MAX_RATIO = 200  # for members above 1 MB uncompressed; spreadsheet XML compresses about 5-30 times
XLSX_RATIO_FLOOR = 1024 * 1024


def xlsx_problem(source: Path | IO[bytes], max_uncompressed: int | None = None) -> str | None:
    """Why this workbook is refused unread (too large unpacked, packed too tightly, too many parts, not an
    archive), in the reader's language; None when it may be parsed."""
    limit = max_uncompressed or XLSX_MAX_UNCOMPRESSED
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError):
        return _("The XLSX workbook cannot be opened; it may be damaged.")
    if len(members) > XLSX_MAX_MEMBERS:
        return _("The XLSX workbook has %(n)d parts (at most %(max)d): save it again as a plain workbook with one "
                 "sheet.", n=len(members), max=XLSX_MAX_MEMBERS)
    total = 0
    for m in members:
        total += m.file_size
        packed = max(m.compress_size, 1)
        too_tight = m.file_size > XLSX_RATIO_FLOOR and m.file_size / packed > XLSX_MAX_RATIO
        strings = m.filename.lower().endswith("sharedstrings.xml") and m.file_size > XLSX_MAX_SHARED_STRINGS
        if total > limit or too_tight or strings:
            return _("The XLSX workbook unpacks to more data than this upload may hold (at most %(mb)d MB, or a part "
                     "compressed more than %(ratio)d times): split it into several files or upload CSV.",
                     mb=max(limit // (1024 * 1024), 1), ratio=XLSX_MAX_RATIO)
    return None
