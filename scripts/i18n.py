"""Message catalogs: extract, update, fill in translations, compile, check.

    python scripts/i18n.py extract          # locales/messages.pot from the code and templates
    python scripts/i18n.py update           # merge the pot into every locale (no fuzzy guesses)
    python scripts/i18n.py fill FILE.json   # {"msgid": {"ja": "…", "ko": "…", "zh_Hans": "…"}}
    python scripts/i18n.py missing [LANG]   # list untranslated or fuzzy msgids
    python scripts/i18n.py compile          # .mo files for the server
    python scripts/i18n.py check            # fails on a stale pot, a missing or fuzzy entry

Several people (or agents) may run it at once: every command holds ``locales/.lock``.
Plural entries in ``fill`` take a list of forms: {"ja": ["…"]}.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES_DIR = ROOT / "locales"
POT = LOCALES_DIR / "messages.pot"
LANGS = ("en", "ja", "ko", "zh_Hans")
TRANSLATED = ("ja", "ko", "zh_Hans")


@contextmanager
def locked() -> Iterator[None]:
    LOCALES_DIR.mkdir(exist_ok=True)
    with open(LOCALES_DIR / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pybabel(*args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args],  # noqa: S603
                            cwd=ROOT, capture_output=True, text=True)
    if result.returncode:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(result.returncode)


def extract(output: Path = POT) -> None:
    pybabel("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "--no-location",
            "--sort-output", "--omit-header", "--project", "Kessai", "-o", str(output), ".")


def update() -> None:
    for lang in LANGS:
        po = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
        if po.exists():
            pybabel("update", "-i", str(POT), "-d", str(LOCALES_DIR), "-l", lang,
                    "--no-fuzzy-matching", "--ignore-obsolete", "--omit-header")
        else:
            pybabel("init", "-i", str(POT), "-d", str(LOCALES_DIR), "-l", lang)
    # English is the source language: every msgstr is its msgid.
    po_path = LOCALES_DIR / "en" / "LC_MESSAGES" / "messages.po"
    catalog = _read(po_path, "en")
    for message in catalog:
        if message.id and not _is_translated(message):
            message.string = message.id
        message.flags.discard("fuzzy")
    _write(po_path, catalog)


def fill(path: Path) -> int:
    data = json.loads(path.read_text(encoding="utf-8"))
    count = 0
    for lang in TRANSLATED:
        po_path = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
        catalog = _read(po_path, lang)
        for msgid, translations in data.items():
            value = translations.get(lang)
            if value is None:
                continue
            message = catalog.get(msgid)
            if message is None:
                print(f"not in catalog (run extract/update first?): {msgid!r}", file=sys.stderr)
                continue
            message.string = tuple(value) if isinstance(message.id, tuple | list) else value
            message.flags.discard("fuzzy")
            count += 1
        _write(po_path, catalog)
    return count


def missing(langs: tuple[str, ...] = TRANSLATED) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for lang in langs:
        catalog = _read(LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po", lang)
        result[lang] = [
            message.id if isinstance(message.id, str) else message.id[0]
            for message in catalog
            if message.id and (not _is_translated(message) or message.fuzzy)
        ]
    return result


def compile_all() -> None:
    """Write each .mo with Babel's API rather than ``pybabel compile``: our .po files carry no
    header, which Babel reads as a *fuzzy catalog*, and ``pybabel compile`` silently skips
    those (every page stayed English). Fuzzy *messages* are still left out; the .mo header
    gets the language's real plural rule from its locale."""
    from babel.messages.mofile import write_mo

    for lang in LANGS:
        po_path = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
        if not po_path.exists():
            continue
        with open(po_path, "rb") as handle:
            catalog = read_po(handle, locale=lang)
        catalog.fuzzy = False
        with open(po_path.with_suffix(".mo"), "wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        done = sum(1 for m in catalog if m.id and m.string and not m.fuzzy)
        print(f"{lang}: {done} of {sum(1 for m in catalog if m.id)} messages compiled")


def stale_pot() -> list[str]:
    """msgids that differ between the checked-in pot and a fresh extraction."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        fresh_path = Path(tmp) / "fresh.pot"
        extract(fresh_path)
        fresh = {m.id for m in _read(fresh_path) if m.id}
    current = {m.id for m in _read(POT) if m.id}
    return sorted(str(x) for x in fresh ^ current)


def _read(path: Path, locale: str | None = None):  # type: ignore[no-untyped-def]
    """With the locale, plural entries get the language's own number of forms (ja/ko/zh: one);
    without it Babel assumes two and a filled entry would look half-translated forever."""
    with open(path, "rb") as handle:
        return read_po(handle, locale=locale)


def _write(path: Path, catalog) -> None:  # type: ignore[no-untyped-def]
    with open(path, "wb") as handle:
        write_po(handle, catalog, omit_header=True, sort_output=True, width=100, no_location=True)


def _is_translated(message) -> bool:  # type: ignore[no-untyped-def]
    if isinstance(message.string, tuple | list):
        return all(message.string)
    return bool(message.string)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    with locked():
        if command == "extract":
            extract()
        elif command == "update":
            extract()
            update()
        elif command == "fill":
            print(f"filled {fill(Path(argv[1]))} entries")
        elif command == "missing":
            langs = tuple(argv[1:]) or TRANSLATED
            for lang, ids in missing(langs).items():
                for msgid in ids:
                    print(f"{lang}\t{msgid}")
        elif command == "compile":
            compile_all()
        elif command == "check":
            problems = 0
            stale = stale_pot()
            if stale:
                problems += 1
                print("locales/messages.pot is stale; run `python scripts/i18n.py update`:")
                for msgid in stale[:20]:
                    print(f"  {msgid!r}")
            for lang, ids in missing().items():
                if ids:
                    problems += 1
                    print(f"{lang}: {len(ids)} untranslated or fuzzy, e.g. {ids[:3]}")
            return 1 if problems else 0
        else:
            print(__doc__)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
