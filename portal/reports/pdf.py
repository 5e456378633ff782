"""render_pdf(template, **context) -> bytes with WeasyPrint, fetching nothing but files under static/.

Templates are rendered from data that enterprises and the public typed; a restricted URL fetcher stops such data
from making the renderer read local files (file:///etc/passwd) or call other hosts (like Indico's
IndicoURLFetcher). WeasyPrint 70 takes a URLFetcher instance whose fetch(url, headers) returns a
URLFetcherResponse; weasyprint.urls.default_url_fetcher no longer exists.
"""
from __future__ import annotations

import logging
import mimetypes
import re
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from flask import current_app, render_template
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # one INFO line per step and page otherwise


class RefusedURL(ValueError):
    """The document asked for a resource outside static/ (logged by WeasyPrint, the resource is left out)."""


class StaticOnlyFetcher(URLFetcher):
    """Serves data: URLs and files under one directory; refuses every other file, http(s), ftp and the rest."""

    def __init__(self, root: str | Path):
        super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False)
        self.root = Path(root).resolve()

    def resolve(self, url: str) -> Path:
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise RefusedURL(f"only static files may be fetched: {url}")
        path = Path(url2pathname(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise RefusedURL(f"not a file under the static folder: {url}")
        return path

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        path = self.resolve(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})


def css_page_counter(text: str) -> str:
    """A translated "Page %(page)s of %(pages)s" as a CSS content value for an @page margin box."""
    tokens = []
    for part in re.split(r"(%\(pages?\)s)", text):
        if part == "%(page)s":
            tokens.append("counter(page)")
        elif part == "%(pages)s":
            tokens.append("counter(pages)")
        elif part:
            tokens.append('"' + part.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3c ")
                          + '"')
    return " ".join(tokens)


def static_root() -> Path:
    return Path(current_app.static_folder or "static").resolve()


def html_to_pdf(html: str) -> bytes:
    root = static_root()
    return HTML(string=html, base_url=root.as_uri() + "/", url_fetcher=StaticOnlyFetcher(root)).write_pdf()


def render_pdf(template: str, **context) -> bytes:
    """Render a Jinja template (linking css/pdf.css relative to static/) and return the PDF bytes."""
    return html_to_pdf(render_template(template, **context))
