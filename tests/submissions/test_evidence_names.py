"""What a downloaded evidence file is called and how it opens: a name never keeps an extension
that runs code (``report.pdf.exe`` is shown and saved as ``report.pdf_exe``), on the educator's
page, the reviewer's page, the public badge page and in every download's Content-Disposition;
only media a browser shows (images, audio, video, PDF) open inline, anything else is downloaded,
always with the type sniffed from its bytes, never the one the browser declared."""

from __future__ import annotations

import io
import zipfile
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from badges import services as badge_services
from badges.models import Badge
from submissions import sniff, storage
from submissions.models import Application
from tests.reviews.conftest import decide
from tests.submissions.conftest import PDF
from tests.submissions.test_api_uploads import client_for, upload
from tests.submissions.test_evidence_immutable import (
    review_page,
    reviewer_claim,
    served_to_educator,
    served_to_reviewer,
    submit,
)

pytestmark = pytest.mark.django_db

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def api(educator: Any) -> APIClient:
    return client_for(educator)


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("[Content_Types].xml", "_rels/.rels", "word/document.xml"):
            archive.writestr(name, "<?xml version='1.0'?><x>" + "y" * 200 + "</x>")
    return buffer.getvalue()


def educator_page(api: APIClient, application: Application) -> str:
    page = api.get(f"/o/{application.organization.slug}/applications/{application.public_id}/")
    assert page.status_code == 200
    return page.content.decode()


def issue_badge(application: Application, client: Client, claim: Any) -> Badge:
    """The reviewer approves; the badge is issued (as the worker would, after the commit)."""
    decide(claim, claim.reviewer, "approve")
    return badge_services.badge_issue(application_id=application.pk)


def served_publicly(badge: Badge, item_id: str) -> Any:
    redirect = Client().get(reverse("badges:evidence", args=[badge.public_id, item_id]))
    assert redirect.status_code == 302
    return requests.get(redirect["Location"], timeout=60)


def test_an_executable_extension_is_neutralised_on_every_page_and_download(
    api, make_application
) -> None:
    # given a PDF the educator's computer calls "report.pdf.exe", shared on the badge
    application = make_application()
    confirmed = upload(api, application, PDF, filename="report.pdf.exe")
    assert confirmed.status_code == 200, confirmed.json()
    item_id = confirmed.json()["item"]["id"]

    # then the educator sees it as "report.pdf_exe", on the page and in the API
    assert confirmed.json()["item"]["display_name"] == "report.pdf_exe"
    page = educator_page(api, application)
    assert "report.pdf_exe" in page and "pdf.exe" not in page
    # and their download is saved under that name (a PDF still opens in the browser)
    mine = served_to_educator(api, application, item_id)
    assert mine.content == PDF
    assert mine.headers["Content-Disposition"] == (
        "inline; filename=\"report.pdf_exe\"; filename*=UTF-8''report.pdf_exe"
    )

    # when it is submitted, reviewed and approved
    submit(api, application, item_id, visibility="public")
    client, claim = reviewer_claim(application)
    page = review_page(client, claim)
    theirs = served_to_reviewer(client, claim, item_id)
    badge = issue_badge(application, client, claim)

    # then the reviewer sees and downloads "report.pdf_exe" too
    assert "report.pdf_exe" in page and "pdf.exe" not in page
    assert 'filename="report.pdf_exe"' in theirs.headers["Content-Disposition"]
    # and so do the public badge page and its evidence link
    public = Client().get(reverse("badges:verify", args=[badge.public_id])).content.decode()
    assert "report.pdf_exe" in public and "pdf.exe" not in public
    shown = served_publicly(badge, item_id)
    assert shown.content == PDF
    assert 'filename="report.pdf_exe"' in shown.headers["Content-Disposition"]


def test_a_document_that_is_not_media_is_downloaded_with_the_type_of_its_bytes(
    api, make_application
) -> None:
    # given a Word document that the browser declared as an old-style .doc, shared on the badge
    application = make_application()
    data = docx()
    confirmed = upload(
        api, application, data, filename="notes.docx", content_type="application/msword"
    )
    assert confirmed.status_code == 200, confirmed.json()
    item_id = confirmed.json()["item"]["id"]
    assert confirmed.json()["item"]["content_type"] == DOCX_TYPE
    submit(api, application, item_id, visibility="public")
    client, claim = reviewer_claim(application)
    page = review_page(client, claim)
    badge = issue_badge(application, client, claim)

    # when the educator, the reviewer and a visitor of the badge page open it
    served = {
        "educator": served_to_educator(api, application, item_id),
        "reviewer": served_to_reviewer(client, claim, item_id),
        "public": served_publicly(badge, item_id),
    }

    # then each gets a download of the bytes, typed from them, never opened in the page
    for who, response in served.items():
        assert response.content == data, who
        assert response.headers["Content-Type"] == DOCX_TYPE, who
        assert response.headers["Content-Disposition"].startswith(
            'attachment; filename="notes.docx"'
        ), who
    # and the reviewer's page offers it as a download rather than embedding it
    assert "Download<span" in page


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("report.pdf.exe", "report.pdf_exe"),
        ("Setup.EXE", "Setup_EXE"),
        ("run.me.bat", "run.me_bat"),
        ("page.html", "page_html"),
        ("drawing.svg", "drawing_svg"),
        ("macro.docm", "macro_docm"),
        ("script.ps1.pdf", "script_ps1.pdf"),
        ("Lesson plan.pdf", "Lesson plan.pdf"),
        ("exe.mp4", "exe.mp4"),  # the name itself is not an extension
        ("clip.webm", "clip.webm"),
    ],
)
def test_the_rule_for_names(raw: str, shown: str) -> None:
    assert sniff.display_name(raw) == shown
    assert sniff.neutralise_name(shown) == shown  # applying it again changes nothing


def test_a_signed_link_opens_inline_only_for_media_a_browser_shows() -> None:
    # even a caller asking for inline gets an attachment for anything but media and PDF, and
    # a name that could run is neutralised in the header
    cases = {
        "application/pdf": "inline",
        "video/mp4": "inline",
        "image/png": "inline",
        "image/svg+xml": "attachment",
        "text/csv": "attachment",
        DOCX_TYPE: "attachment",
    }
    for content_type, disposition in cases.items():
        url = storage.presigned_get(
            key="org-1/x", filename="a.pdf.exe", content_type=content_type, inline=True
        )
        query = parse_qs(urlsplit(url).query)
        assert query["response-content-disposition"][0].startswith(
            f'{disposition}; filename="a.pdf_exe"'
        ), content_type
        assert query["response-content-type"] == [content_type]
