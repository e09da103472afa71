"""Tessera's message catalogs: extract, update, check and compile them with Babel, so that a
machine with nothing but Python (no GNU gettext) can build and test the translations
(docs/decisions/0036-spanish.md).

    python -m credentials_site.i18n update    # bring every catalog up to date with the sources
    python -m credentials_site.i18n check     # untranslated, fuzzy, stale or unmarked strings
    python -m credentials_site.i18n compile   # .po -> .mo (make install does this)

**Catalogs.** Each app keeps its own (``<app>/locale/es/LC_MESSAGES/django.po`` and
``djangojs.po``), holding the strings of its Python, its templates (``<app>/templates`` and
``templates/<app>/``, ``templates/admin/<app>/``) and its JavaScript; everything else (the site's
frame, the error pages, sign-in, the e-mails) is in ``locale/``. ``CATALOG_OF`` says which.

**Templates** are turned into Python by Django's own ``templatize`` (what ``makemessages`` does
before it calls xgettext) and read by Babel's Python extractor, so ``{% translate %}``,
``{% blocktranslate %}`` (with ``count``, ``context`` and ``trimmed``) and ``_("…")`` give the
same message ids as Django looks up.

**Unmarked strings.** ``unmarked()`` finds user-facing text that no translation tag or call
wraps: words in a template's text or in its ``alt``/``title``/``placeholder``/``aria-label``
attributes, and string literals in the places Python code shows them to people (labels, help
texts, verbose names, choice labels, messages, validation errors).
"""

from __future__ import annotations

import ast
import io
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract, extract_python
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("es",)
APPS = ("programs", "submissions", "reviews", "badges")
# templates whose folder names another app's catalog
TEMPLATE_FOLDERS = {"communities": "submissions", "lti": "submissions"}
# Django's own admin templates copied to be changed: their strings are Django's (and translated
# by Django's own catalog)
BORROWED = {"templates/admin/change_list_results.html", "templates/admin/edit_inline/tabular.html"}
SKIP_PARTS = {"migrations", "tests", "management", "demo_data", "__pycache__"}

# Django's translation functions (what makemessages passes to xgettext), as Babel's keyword specs
PYTHON_KEYWORDS: dict[str, tuple[object, ...] | None] = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
JS_KEYWORDS: dict[str, tuple[object, ...] | None] = {
    "gettext": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
}
COMMENT_TAGS = ["Translators"]


def catalog_of(relative: Path) -> str | None:
    """The catalog (an app's name, or "" for the site's ``locale/``) a source file's strings
    belong to; ``None`` for files that hold none."""
    parts = relative.parts
    if not parts or SKIP_PARTS.intersection(parts) or relative.as_posix() in BORROWED:
        return None
    head = parts[0]
    if head in APPS:
        return head
    if head == "credentials_site":
        return "" if relative.name != "i18n.py" else None
    if head == "templates":
        if len(parts) > 2 and parts[1] == "admin" and parts[2] in APPS:
            return parts[2]
        if len(parts) > 1 and parts[1] in APPS:
            return parts[1]
        if len(parts) > 1 and parts[1] in TEMPLATE_FOLDERS:
            return TEMPLATE_FOLDERS[parts[1]]
        return ""
    if head == "static" and len(parts) > 1 and parts[1] == "js":
        return JS_CATALOGS.get(relative.name, "")
    return None


# the scripts under static/js and the app whose catalog holds their strings
JS_CATALOGS = {
    "evidence.js": "submissions",
    "builder.js": "programs",
    "review.js": "reviews",
    "badge-verify.js": "badges",
    "wallet-offer.js": "badges",
    "insights.js": "badges",
    "catalog.js": "programs",
    "job-progress.js": "",
}


def locale_dir(catalog: str) -> Path:
    return ROOT / catalog / "locale" if catalog else ROOT / "locale"


def sources() -> Iterator[tuple[Path, str, str]]:
    """(file, catalog, domain) for every source file that may hold strings."""
    roots = [ROOT / name for name in (*APPS, "credentials_site", "templates")]
    roots.append(ROOT / "static" / "js")
    for root in roots:
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix not in {".py", ".html", ".txt", ".js"}:
                continue
            catalog = catalog_of(path.relative_to(ROOT))
            if catalog is None:
                continue
            yield path, catalog, "djangojs" if path.suffix == ".js" else "django"


def extract_django(fileobj, keywords, comment_tags, options):  # type: ignore[no-untyped-def]
    """A Babel extractor for Django templates: Django's templatize, then Babel's Python."""
    from django.utils.translation.template import templatize

    text = fileobj.read().decode("utf-8")
    python = templatize(text, origin=options.get("origin"))
    # templatize keeps the template's indentation, which Python's tokenizer refuses
    python = "\n".join(line.lstrip() for line in python.split("\n"))
    return extract_python(io.BytesIO(python.encode("utf-8")), keywords, comment_tags, options)


def _extract_file(path: Path) -> Iterator[tuple[int, str | tuple[str, ...], list[str], str | None]]:
    relative = path.relative_to(ROOT).as_posix()
    method: Any
    if path.suffix == ".py":
        method, keywords = "python", PYTHON_KEYWORDS
    elif path.suffix == ".js":
        method, keywords = "javascript", JS_KEYWORDS
    else:
        method, keywords = extract_django, PYTHON_KEYWORDS
    with path.open("rb") as fileobj:
        yield from extract(
            method,  # type: ignore[arg-type]
            fileobj,
            keywords=keywords,  # type: ignore[arg-type]
            comment_tags=COMMENT_TAGS,
            options={"origin": relative},
            strip_comment_tags=True,
        )


def templates_of(catalog: str, domain: str) -> Catalog:
    """The message template (a .pot in memory) of one catalog and domain, from the sources."""
    template = Catalog(project="Tessera", charset="utf-8", fuzzy=False)
    for path, owner, source_domain in sources():
        if owner != catalog or source_domain != domain:
            continue
        relative = path.relative_to(ROOT).as_posix()
        for lineno, message, comments, context in _extract_file(path):
            if not message or (isinstance(message, tuple) and not message[0]):
                continue
            python_format = path.suffix != ".js" and _has_percent_format(message)
            template.add(
                message,
                None,
                [(relative, lineno)],
                auto_comments=comments,
                context=context,
                flags=("python-format",) if python_format else (),
            )
    return template


def _has_percent_format(message: str | tuple[str, ...]) -> bool:
    texts = message if isinstance(message, tuple) else (message,)
    return any(re.search(r"%(\([\w]+\))?[sd]", text) for text in texts)


def catalogs() -> Iterator[tuple[str, str]]:
    for catalog in ("", *APPS):
        for domain in ("django", "djangojs"):
            yield catalog, domain


def po_path(catalog: str, domain: str, language: str) -> Path:
    return locale_dir(catalog) / language / "LC_MESSAGES" / f"{domain}.po"


def _read(path: Path, language: str) -> Catalog:
    if path.exists():
        with path.open("rb") as fileobj:
            return read_po(fileobj, locale=language)
    return Catalog(locale=language, project="Tessera", charset="utf-8", fuzzy=False)


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(
        buffer, catalog, sort_output=True, include_lineno=False, ignore_obsolete=True, width=100
    )
    path.write_bytes(buffer.getvalue())


def update() -> None:
    """Every catalog gains its sources' new strings (untranslated) and loses the ones no source
    uses any more; translations already made are kept."""
    for catalog, domain in catalogs():
        template = templates_of(catalog, domain)
        for language in LANGUAGES:
            path = po_path(catalog, domain, language)
            if not len(template) and not path.exists():
                continue
            messages = _read(path, language)
            created = messages.creation_date  # kept: a header that changes on every run
            messages.update(template, no_fuzzy_matching=True, update_header_comment=False)
            messages.creation_date = created  # would make every merge of two branches conflict
            messages.fuzzy = False
            _write(path, messages)


def compile_all() -> None:
    for catalog, domain in catalogs():
        for language in LANGUAGES:
            path = po_path(catalog, domain, language)
            if not path.exists():
                continue
            messages = _read(path, language)
            mo = path.with_suffix(".mo")
            with mo.open("wb") as fileobj:
                write_mo(fileobj, messages, use_fuzzy=False)


@dataclass(frozen=True)
class Problem:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def untranslated(enforced: Iterable[str] | None = None) -> list[Problem]:
    """Strings the sources use that a catalog lacks, leaves empty, marks fuzzy or translates
    with other placeholders than the original's."""
    wanted = None if enforced is None else set(enforced)
    problems: list[Problem] = []
    for catalog, domain in catalogs():
        if wanted is not None and catalog not in wanted:
            continue
        template = templates_of(catalog, domain)
        for language in LANGUAGES:
            path = po_path(catalog, domain, language)
            messages = _read(path, language)
            name = path.relative_to(ROOT).as_posix()
            for message in template:
                if not message.id:
                    continue
                where = ", ".join(f"{file}:{line}" for file, line in message.locations[:2])
                found = messages.get(message.id, context=message.context)
                shown = message.id if isinstance(message.id, str) else message.id[0]
                if found is None:
                    problems.append(
                        Problem(where, f"{shown!r} is not in {name} (run make messages)")
                    )
                elif found.fuzzy:
                    problems.append(Problem(where, f"{shown!r} is fuzzy in {name}"))
                elif not _translated(found.string):
                    problems.append(
                        Problem(where, f"{shown!r} has no {language} translation in {name}")
                    )
                else:
                    for error in found.check(messages):
                        problems.append(Problem(where, f"{shown!r} in {name}: {error}"))
    return problems


def _translated(string: str | tuple[str, ...] | list[str] | None) -> bool:
    if isinstance(string, tuple | list):
        return all(part.strip() for part in string)
    return bool(string and string.strip())


# -- text no translation wraps ----------------------------------------------------------------

# words that read the same in every language: names, standards, file formats
NAMES = re.compile(
    r"^(Tessera|Open Badges|OB|CLR|LTI|CSV|PDF|JSON|JSON-LD|PNG|SVG|URL|URI|ID|API|SSO|SAML|"
    r"OIDC|HTTPS?|Stripe|Credly|LinkedIn|GAEL|QR|DID|CEUs?|VC-API|Learner Credential Wallet|"
    r"\u00a9|\u00d7|\u2192|\u2190|\u00b7|\u2026|\u2014|\u2013|\d|\W)+$"
)
WORD = re.compile(r"[^\W\d_]{2,}")
TEXT_ATTRIBUTES = {
    "alt",
    "title",
    "placeholder",
    "aria-label",
    "aria-description",
    "aria-roledescription",
}


class _TextFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._raw = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._raw += 1
        for name, value in attrs:
            if name in TEXT_ATTRIBUTES and value and _words(value):
                self.found.append((self.getpos()[0], f'{name}="{value.strip()}"'))
            if (
                name == "value"
                and value
                and _words(value)
                and dict(attrs).get("type") in {"submit", "button"}
            ):
                self.found.append((self.getpos()[0], f'value="{value.strip()}"'))

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._raw:
            self._raw -= 1

    def handle_data(self, data: str) -> None:
        if not self._raw and _words(data):
            self.found.append((self.getpos()[0], data.strip()))


def _words(text: str) -> bool:
    text = re.sub(r"\s+", " ", text).strip()
    if not text or NAMES.match(text) or re.fullmatch(r"[\w.+-]+@[\w.-]+|https?://\S+", text):
        return False
    return bool(WORD.search(text))


def unmarked_in_template(path: Path) -> list[Problem]:
    from django.template.base import Lexer, TokenType

    relative = path.relative_to(ROOT).as_posix()
    text = path.read_text("utf-8")
    problems = []
    # the text between template tags, with each tag (translated or not) as a blank; the tags
    # that stand for text (variables, translations) leave a placeholder so attributes that
    # hold only them count as marked
    pieces: list[str] = []
    skipping = 0
    for token in Lexer(text).tokenize():
        if token.token_type == TokenType.BLOCK:
            word = token.contents.split()[0] if token.contents.split() else ""
            if word in {"comment", "verbatim"}:
                skipping += 1
            elif word in {"endcomment", "endverbatim"}:
                skipping = max(0, skipping - 1)
            elif word in {"blocktranslate", "blocktrans"}:
                skipping += 1
                pieces.append("\x00")
            elif word in {"endblocktranslate", "endblocktrans"}:
                skipping = max(0, skipping - 1)
            elif word in {"translate", "trans"}:
                pieces.append("\x00")
            else:
                pieces.append("\n" * token.contents.count("\n"))
            continue
        if skipping:
            pieces.append("\n" * token.contents.count("\n"))
            continue
        if token.token_type == TokenType.VAR:
            pieces.append("\x00")
        elif token.token_type == TokenType.TEXT:
            pieces.append(token.contents)
        else:
            pieces.append("\n" * token.contents.count("\n"))
    joined = "".join(pieces).replace("\x00", "0")
    if path.suffix == ".txt":
        for number, line in enumerate(joined.splitlines(), 1):
            if _words(line):
                problems.append(
                    Problem(f"{relative}:{number}", f"untranslated text {line.strip()!r}")
                )
        return problems
    finder = _TextFinder()
    finder.feed(joined)
    finder.close()
    for at, found in finder.found:
        problems.append(Problem(f"{relative}:{at}", f"untranslated text {found[:80]!r}"))
    return problems


# Python: where a string literal is shown to people
LABEL_KEYWORDS = {
    "label",
    "help_text",
    "verbose_name",
    "subject",
    "verbose_name_plural",
    "empty_label",
    "description",
}
MESSAGE_CALLS = {"success", "error", "info", "warning", "add_message"}
ERROR_CALLS = {
    "ValidationError",
    "PermissionDenied",
    "NotFound",
    "ParseError",
    "APIException",
    "ApplicationError",
    "BadgeError",
    "PaymentError",
    "RosterFileError",
}
CHOICES_BASES = {"TextChoices", "IntegerChoices", "Choices"}


def unmarked_in_python(path: Path) -> list[Problem]:
    relative = path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text("utf-8"), filename=relative)
    problems: list[Problem] = []

    def shown(node: ast.AST | None, why: str) -> None:
        if isinstance(node, ast.Dict | ast.List | ast.Tuple):
            for value in node.values if isinstance(node, ast.Dict) else node.elts:
                shown(value, why)
            return
        if isinstance(node, ast.JoinedStr) or (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and _words(node.value)
        ):
            problems.append(
                Problem(f"{relative}:{node.lineno}", f"{why} is not marked for translation")
            )  # type: ignore[union-attr]

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", "")
            )
            for keyword in node.keywords:
                if keyword.arg in LABEL_KEYWORDS or (
                    keyword.arg == "fields" and name in ERROR_CALLS
                ):
                    shown(keyword.value, f"{keyword.arg}=")
            if name in ERROR_CALLS and node.args:
                shown(node.args[0], f"{name}(…)")
            if name in MESSAGE_CALLS and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                if getattr(owner, "id", "") == "messages" and len(node.args) >= 2:
                    shown(
                        node.args[-1]
                        if name != "add_message"
                        else node.args[2]
                        if len(node.args) > 2
                        else None,
                        f"messages.{name}(…)",
                    )
        elif isinstance(node, ast.ClassDef):
            bases = {getattr(base, "attr", getattr(base, "id", "")) for base in node.bases}
            if bases & CHOICES_BASES:
                for statement in node.body:
                    if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Tuple):
                        shown(statement.value.elts[-1], "a choice's label")
    return problems


def unmarked(enforced: Iterable[str] | None = None) -> list[Problem]:
    wanted = None if enforced is None else set(enforced)
    problems: list[Problem] = []
    for path, catalog, _domain in sources():
        if wanted is not None and catalog not in wanted:
            continue
        if path.suffix in {".html", ".txt"}:
            problems.extend(unmarked_in_template(path))
        elif path.suffix == ".py":
            problems.extend(unmarked_in_python(path))
    return problems


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command in {"update", "check"}:
        import django
        from django.conf import settings

        if not settings.configured:
            settings.configure(USE_I18N=True)
        django.setup()
    if command == "update":
        update()
        return 0
    if command == "compile":
        compile_all()
        return 0
    if command == "check":
        problems = unmarked() + untranslated()
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
