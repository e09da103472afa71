"""Every string people read has its Spanish translation (decision 0036): ``make test`` fails when
a template holds text no translation tag wraps, when Python shows people a bare literal, or when
a marked string is missing, empty, fuzzy or mistranslated (other placeholders) in its catalog.
The finder itself is tested on small sources, so a check that passes is a check that looks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from django.utils import translation

from credentials_site import i18n


def _report(problems: list[i18n.Problem]) -> str:
    shown = "\n".join(f"  {problem}" for problem in problems[:60])
    more = f"\n  … and {len(problems) - 60} more" if len(problems) > 60 else ""
    return (
        f"{len(problems)} user-facing string(s) without a Spanish translation:\n{shown}{more}\n"
        "Mark them ({% translate %}, gettext), run `make messages`, and translate the new "
        "entries of the catalog named."
    )


def test_no_template_or_python_text_is_left_unmarked() -> None:
    problems = i18n.unmarked()
    assert not problems, _report(problems)


def test_every_marked_string_has_its_spanish_translation() -> None:
    problems = i18n.untranslated()
    assert not problems, _report(problems)


def test_the_compiled_catalogs_are_the_ones_django_reads() -> None:
    """A string of each catalog (the site's, and each app's) comes out in Spanish."""
    for catalog, domain in i18n.catalogs():
        if domain != "django":
            continue
        path = i18n.po_path(catalog, domain, "es")
        with path.open("rb") as fileobj:
            from babel.messages.pofile import read_po

            messages = read_po(fileobj, locale="es")
        sample = next(
            m for m in messages if m.id and isinstance(m.id, str) and m.string and not m.context
        )
        with translation.override("es"):
            assert translation.gettext(sample.id) == sample.string, (catalog, sample.id)


# --- the finder, on small sources --------------------------------------------------------------


def _template(tmp_path: Path, text: str, suffix: str = ".html") -> Path:
    path = tmp_path / f"page{suffix}"
    path.write_text(textwrap.dedent(text), "utf-8")
    return path


@pytest.fixture
def in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(i18n, "ROOT", tmp_path)
    return tmp_path


def test_the_finder_sees_text_and_attributes_no_tag_wraps(in_tmp: Path) -> None:
    path = _template(
        in_tmp,
        """\
        {% load i18n %}
        <h1>{% translate "Your badges" %}</h1>
        <p>Nothing here yet</p>
        <img src="x.png" alt="A badge">
        <button aria-label="{% translate 'Close' %}">&times;</button>
        <input type="submit" value="Save">
        <p>{% blocktranslate trimmed with n=count %}{{ n }} badges{% endblocktranslate %}</p>
        <p>{{ organization.name }} — CSV, PDF</p>
        {% comment %}Not shown to anyone{% endcomment %}
        <script>const label = "not text";</script>
        """,
    )
    found = [problem.what for problem in i18n.unmarked_in_template(path)]
    assert found == [
        "untranslated text 'Nothing here yet'",
        "untranslated text 'alt=\"A badge\"'",
        "untranslated text 'value=\"Save\"'",
    ]


def test_the_finder_reads_plain_text_mail_line_by_line(in_tmp: Path) -> None:
    path = _template(
        in_tmp,
        """\
        {% load i18n %}{% autoescape off %}
        {% blocktranslate trimmed with name=name %}Hello {{ name }},{% endblocktranslate %}
        Your badge is ready.
        {{ url }}
        {% endautoescape %}
        """,
        suffix=".txt",
    )
    found = [problem.what for problem in i18n.unmarked_in_template(path)]
    assert found == ["untranslated text 'Your badge is ready.'"]


def test_the_finder_sees_bare_literals_where_python_shows_them(in_tmp: Path) -> None:
    path = in_tmp / "module.py"
    path.write_text(
        textwrap.dedent(
            """\
            from django.utils.translation import gettext as _, gettext_lazy

            class Level(models.TextChoices):
                LOW = "low", "Low"
                HIGH = "high", gettext_lazy("High")

            def view(request, name):
                messages.success(request, "Saved.")
                messages.success(request, _("Saved."))
                raise ApplicationError(f"No such {name}", code="x")

            field = forms.CharField(label=gettext_lazy("Name"), help_text="Your full name")
            error = ApplicationError(_("Bad."), code="x", fields={"name": ["Too long"]})
            """
        ),
        "utf-8",
    )
    found = sorted((problem.where, problem.what) for problem in i18n.unmarked_in_python(path))
    assert found == [
        ("module.py:10", "ApplicationError(…) is not marked for translation"),
        ("module.py:12", "help_text= is not marked for translation"),
        ("module.py:13", "fields= is not marked for translation"),
        ("module.py:4", "a choice's label is not marked for translation"),
        ("module.py:8", "messages.success(…) is not marked for translation"),
    ]


def test_a_catalog_entry_missing_empty_fuzzy_or_with_other_placeholders_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    template = Catalog()
    for message in ("Missing", "Empty", "Fuzzy", "Hello %(name)s", "Fine"):
        template.add(message, locations=[("page.html", 1)])
    messages = Catalog(locale="es")
    messages.add("Empty", "")
    messages.add("Fuzzy", "Difusa", flags=["fuzzy"])
    messages.add("Hello %(name)s", "Hola %(nombre)s", flags=["python-format"])
    messages.add("Fine", "Bien")
    po = tmp_path / "django.po"
    i18n._write(po, messages)
    monkeypatch.setattr(i18n, "catalogs", lambda: iter([("", "django")]))
    monkeypatch.setattr(i18n, "templates_of", lambda catalog, domain: template)
    monkeypatch.setattr(i18n, "po_path", lambda catalog, domain, language: po)
    monkeypatch.setattr(i18n, "ROOT", tmp_path)
    found = sorted(problem.what for problem in i18n.untranslated())
    assert len(found) == 4, found
    assert found[0].startswith("'Empty' has no es translation in django.po")
    assert found[1] == "'Fuzzy' is fuzzy in django.po"
    assert found[2].startswith("'Hello %(name)s' in django.po:")
    assert found[3] == "'Missing' is not in django.po (run make messages)"
