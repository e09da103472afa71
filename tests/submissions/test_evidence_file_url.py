"""Evidence files are served from one place (``storage.evidence_file_url``), which decides once
whether a file opens in the browser or downloads, and how long its signed link lives: for the
reviewer, a calibration exemplar, the educator and a badge's public evidence alike."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from programs.models import User
from submissions import storage
from submissions.models import Application, EvidenceItem
from tests.submissions.conftest import requirement

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HOURS = storage.MEDIA_URL_SECONDS


def item(content_type: str, name: str = "evidence.bin") -> EvidenceItem:
    return EvidenceItem(
        storage_key="org-1/app-x/final/abc", display_name=name, content_type=content_type
    )


def signed(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


class TestOneRule:
    @pytest.mark.parametrize(
        ("content_type", "kind", "disposition", "seconds"),
        [
            ("video/mp4", "video", "inline", HOURS),
            ("audio/mpeg", "audio", "inline", HOURS),
            ("image/png", "image", "inline", None),
            ("application/pdf", "pdf", "inline", None),
            ("image/svg+xml", "download", "attachment", None),  # an image that can run scripts
            (DOCX, "download", "attachment", None),
        ],
    )
    def test_a_file_opens_or_downloads_by_its_type(
        self, content_type: str, kind: str, disposition: str, seconds: int | None
    ) -> None:
        # given an evidence file of this type
        evidence = item(content_type, "lesson.ext")
        # when a page asks for its link
        query = signed(storage.evidence_file_url(evidence))
        # then the page shows it as its kind, and the link opens or downloads it accordingly
        assert storage.evidence_media_kind(evidence) == kind
        assert query["response-content-disposition"].startswith(f'{disposition}; filename="lesson')
        assert query["response-content-type"] == content_type
        assert query["X-Amz-Expires"] == str(seconds or settings.AWS_QUERYSTRING_EXPIRE)

    def test_a_public_link_stays_short_even_for_a_video(self) -> None:
        # when a badge's public evidence is a video
        query = signed(storage.evidence_file_url(item("video/mp4"), public=True))
        # then it still plays in the browser, but its link lives only the default minutes, so
        # that revoking the badge ends access soon
        assert query["response-content-disposition"].startswith("inline")
        assert query["X-Amz-Expires"] == str(settings.AWS_QUERYSTRING_EXPIRE)

    def test_the_name_shown_is_the_one_asked_for(self) -> None:
        # when a reviewer's page names a file blind
        query = signed(
            storage.evidence_file_url(
                item("image/png", "Ms Quintero.png"), filename="A7-file-1.png"
            )
        )
        # then the download carries that name, not the educator's
        assert 'filename="A7-file-1.png"' in query["response-content-disposition"]
        assert "Quintero" not in query["response-content-disposition"]


@pytest.mark.django_db
def test_the_educator_watches_their_own_video_with_a_long_link(
    make_application, educator: User
) -> None:
    # given an application with a classroom video ready
    application: Application = make_application()
    video = EvidenceItem.objects.create(
        organization=application.organization,
        application=application,
        requirement=requirement(application, "Lesson plan"),
        kind=EvidenceItem.Kind.FILE,
        status=EvidenceItem.Status.READY,
        storage_key=f"org-{application.organization_id}/app-{application.public_id}/final/v",
        display_name="class.mp4",
        content_type="video/mp4",
        size=1000,
    )
    api = APIClient()
    api.force_authenticate(educator)
    # when the educator opens it from their application
    response = api.get(
        f"/api/v1/orgs/{application.organization.slug}/applications/{application.public_id}/"
        f"items/{video.public_id}/file/"
    )
    # then it plays in the browser, long enough to watch and seek through, as for a reviewer
    assert response.status_code == 302
    query = signed(response["Location"])
    assert query["response-content-disposition"].startswith('inline; filename="class.mp4"')
    assert query["X-Amz-Expires"] == str(HOURS)
