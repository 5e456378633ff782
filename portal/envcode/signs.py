"""What the code looks like off the screen: the QR code to the phone page, the printable sign (PDF, A4 or A3) for
the factory gate and the small badge (SVG) for documents. The QR always opens the live page, so a printed sign
whose colour has since changed still leads to the current code."""
from __future__ import annotations

import io
from datetime import datetime, timezone
from xml.sax.saxutils import escape

import segno
from flask import current_app
from flask_babel import force_locale

from portal.core.links import public_url
from portal.envcode import labels
from portal.envcode.services import code_view
from portal.enterprises.models import Enterprise
from portal.reports.pdf import render_pdf

SIGN_SIZES = {"A4": {"qr_mm": 120, "title_pt": 40}, "A3": {"qr_mm": 180, "title_pt": 58}}


def code_url(ent: Enterprise) -> str:
    return public_url("envcode.phone", uscc=ent.uscc)


def qr_svg(url: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="q").save(out, kind="svg", scale=scale, border=2, xmldecl=True, svgns=True)
    return out.getvalue()


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="q").svg_data_uri(scale=10, border=2)


def sign_pdf(ent: Enterprise, size: str, now: datetime | None = None) -> bytes:
    """The gate sign, always in Chinese (it hangs in China), with the QR code as large as the page allows."""
    view = code_view(ent)
    url = code_url(ent)
    with force_locale("zh_CN"):
        grades = labels.grade_labels(ent.id, english=False)
        reasons = [labels.reason_text(r, grades) for r in view.verdict.deciding]
        return render_pdf("envcode/sign_pdf.html", ent=ent, view=view, size=size, layout=SIGN_SIZES[size],
                          url=url, qr_uri=qr_data_uri(url), reasons=reasons,
                          colour_label=str(labels.COLOUR_LABELS[view.code.colour]),
                          colour_hex=labels.COLOUR_HEX[view.code.colour],
                          generated_at=(now or datetime.now(timezone.utc)))


def _x(value: object) -> str:
    """XML text and attribute escaping: quotes too, so a name cannot close an attribute and add its own."""
    return escape(str(value), {'"': "&quot;", "'": "&apos;"})


def badge_svg(ent: Enterprise) -> str:
    """A 300×100 badge: the colour band with its label, the credit code and a QR code to the live page."""
    view = code_view(ent)
    url = code_url(ent)
    colour = labels.COLOUR_HEX[view.code.colour]
    with force_locale("zh_CN"):
        title = f"企业环保码 · {labels.COLOUR_LABELS[view.code.colour]}"
    qr = segno.make(url, error="q")
    modules = qr.symbol_size(scale=1, border=0)[0]
    scale = 84 / modules
    qr_uri = qr.svg_data_uri(scale=1, border=0)
    name = _x(ent.name if len(ent.name) <= 16 else ent.name[:15] + "…")
    font = current_app.config.get("ENVCODE_BADGE_FONT", "'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="300" height="100"
     viewBox="0 0 300 100" role="img" aria-label="{_x(title)} {_x(ent.name)}">
  <title>{_x(title)} · {_x(ent.name)}</title>
  <rect x="1" y="1" width="298" height="98" rx="6" fill="#fff" stroke="{_x(colour)}" stroke-width="2"/>
  <rect x="1" y="1" width="196" height="34" rx="6" fill="{_x(colour)}"/>
  <text x="12" y="24" font-family="{_x(font)}" font-size="16" fill="#fff">{_x(title)}</text>
  <text x="12" y="58" font-family="{_x(font)}" font-size="13" fill="#1b1f24">{name}</text>
  <text x="12" y="80" font-family="monospace" font-size="12" fill="#4d5660">{_x(ent.uscc)}</text>
  <image x="{300 - 8 - modules * scale:.1f}" y="8" width="{modules * scale:.1f}" height="{modules * scale:.1f}"
         xlink:href="{_x(qr_uri)}" href="{_x(qr_uri)}"/>
</svg>
"""
