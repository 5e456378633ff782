"""Translation catalogs, one per domain package (Flask-Babel merges every directory listed in create_app).

  python scripts/i18n.py extract DOMAIN   # portal/DOMAIN/*.py + templates/DOMAIN/ -> portal/DOMAIN/translations
  python scripts/i18n.py extract core     # portal/*.py, portal/core, templates/*.html, errors, _macros -> translations/
  python scripts/i18n.py compile          # every catalog -> .mo (run by make)
  python scripts/i18n.py check            # fails if a zh_CN message is untranslated or fuzzy

Message ids are English; zh_CN catalogs must be complete (the UI is Chinese first, English complete).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PYBABEL = [sys.executable, "-m", "babel.messages.frontend"]


def catalog_dirs() -> list[Path]:
    dirs = [ROOT / "translations"] + sorted(p for p in (ROOT / "portal").glob("*/translations") if p.is_dir())
    return [d for d in dirs if (d / "zh_CN" / "LC_MESSAGES" / "messages.po").exists()]


def sources(domain: str) -> list[Path]:
    if domain == "core":
        files = [p for p in (ROOT / "portal").glob("*.py")] + list((ROOT / "portal" / "core").glob("*.py"))
        files += list((ROOT / "templates").glob("*.html"))
        files += list((ROOT / "templates" / "errors").glob("*.html")) + list((ROOT / "templates" / "_macros").glob("*.html"))
        return files
    files = list((ROOT / "portal" / domain).rglob("*.py"))
    files += list((ROOT / "templates" / domain).rglob("*.html"))
    return files


def extract(domain: str) -> None:
    out = ROOT / "translations" if domain == "core" else ROOT / "portal" / domain / "translations"
    out.mkdir(parents=True, exist_ok=True)
    pot = out / "messages.pot"
    files = [str(p.relative_to(ROOT)) for p in sources(domain)]
    subprocess.run(PYBABEL + ["extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "--no-location",
                              "--sort-output", "-o", str(pot), *files], cwd=ROOT, check=True)
    po = out / "zh_CN" / "LC_MESSAGES" / "messages.po"
    action = "update" if po.exists() else "init"
    subprocess.run(PYBABEL + [action, "-i", str(pot), "-d", str(out), "-l", "zh_CN", "--no-wrap"]
                   + (["--ignore-obsolete"] if action == "update" else []), cwd=ROOT, check=True)
    pot.unlink()


def compile_all() -> None:
    for d in catalog_dirs():
        po = d / "zh_CN" / "LC_MESSAGES" / "messages.po"
        # Babel parses zh_CN as zh_Hans_CN, for which gettext looks in zh_Hans_CN/ and zh/: compile to zh/.
        mo = d / "zh" / "LC_MESSAGES" / "messages.mo"
        mo.parent.mkdir(parents=True, exist_ok=True)
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh, locale="zh_CN")
        with mo.open("wb") as fh:
            write_mo(fh, catalog)


def check() -> int:
    """Every message translated, and a message id translated the same way in every catalog (Flask-Babel merges the
    catalogs into one, so a clash would let one package's wording silently replace another's)."""
    missing = []
    seen: dict[tuple, dict[str, list[str]]] = {}
    for d in catalog_dirs():
        po = d / "zh_CN" / "LC_MESSAGES" / "messages.po"
        with po.open("rb") as fh:
            cat = read_po(fh)
        for msg in cat:
            if not msg.id:
                continue
            strings = msg.string if isinstance(msg.string, (list, tuple)) else [msg.string]
            if msg.fuzzy or not all(strings):
                missing.append(f"{po.relative_to(ROOT)}: {msg.id!r}")
            key = (msg.context, msg.id if isinstance(msg.id, str) else tuple(msg.id))
            seen.setdefault(key, {}).setdefault(" | ".join(strings), []).append(str(d.relative_to(ROOT)))
    clashes = [(key, versions) for key, versions in seen.items() if len(versions) > 1]
    for line in missing:
        print("untranslated:", line)
    for (context, msgid), versions in clashes:
        where = "; ".join(f"{text!r} in {', '.join(dirs)}" for text, dirs in versions.items())
        print(f"translated differently: {msgid!r}{f' (context {context})' if context else ''}: {where}")
    return 1 if missing or clashes else 0


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "compile"
    if cmd == "extract":
        extract(sys.argv[2])
    elif cmd == "compile":
        compile_all()
    elif cmd == "check":
        sys.exit(check())
    else:
        sys.exit(__doc__)
