"""An upload that never arrived — SeaweedFS refused it (403), or the page was left before the
confirm — does not block submitting: it is shown as "did not finish", may be removed or retried at
once, is left out of the attempt, and stops counting against the step's files when its slot
expires."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from django.test import Client
from django.utils import timezone

from programs.models import User
from submissions import services, storage
from submissions.models import Application, ApplicationEvent, EvidenceItem
from tests.factories import UserFactory
from tests.submissions.conftest import PDF, requirement, upload_to_slot
from tests.submissions.test_services_evidence import refused, slot_for, words
from tests.submissions.test_services_submit import complete, state
from tests.submissions.test_views import body_of, page_url

pytestmark = pytest.mark.django_db


def refused_by_storage(application: Application, educator: User) -> EvidenceItem:
    """A presigned POST that storage answers 403 (its signature no longer matches, as with one
    that expired): the item stays pending, and nothing arrives."""
    slot = slot_for(application, educator, filename="Unit plan.pdf")
    assert slot.fields is not None
    fields = {**slot.fields, "x-amz-signature": "0" * 64}
    response = requests.post(
        slot.url, data=fields, files={"file": ("upload", PDF, "application/pdf")}, timeout=30
    )
    assert response.status_code == 403, response.text
    assert storage.head(key=slot.key) is None
    return slot.item


def never_confirmed(application: Application, educator: User) -> EvidenceItem:
    """The bytes reached storage, but the page was closed before it asked for the confirm."""
    slot = slot_for(application, educator, filename="Unit plan.pdf")
    assert upload_to_slot(slot, PDF).status_code == 201
    return slot.item


def item(pk: int) -> EvidenceItem:
    return EvidenceItem.objects.get(pk=pk)


def press(client: Client, failed: EvidenceItem, callbacks: Any, **data: str) -> Any:
    """Press Remove (or, with ``retry="1"``, Retry) beside the item, without the page's script."""
    with callbacks(execute=True):
        return client.post(
            page_url(failed.application, f"items/{failed.public_id}/remove/"), data, follow=True
        )


class TestSubmit:
    @pytest.mark.parametrize("unfinished", [refused_by_storage, never_confirmed])
    def test_an_upload_that_never_arrived_does_not_block_submit_and_is_left_out(
        self,
        make_application: Any,
        educator: User,
        django_capture_on_commit_callbacks: Any,
        unfinished: Any,
    ) -> None:
        # given every step done, and a second file that did not finish
        application = make_application()
        complete(application, educator)
        failed = unfinished(application, educator)
        assert failed.status == EvidenceItem.Status.PENDING
        # then nothing is left to do
        assert services.application_gaps(application=application) == []
        # when the educator submits
        with django_capture_on_commit_callbacks(execute=True):
            submission = services.application_submit(application=application, actor=educator)
        # then the attempt is submitted without it, its slot is deleted, and the timeline says so
        assert state(application) == (Application.Status.SUBMITTED, 1, 1)
        assert failed not in submission.items.all()
        assert submission.items.filter(kind="file").count() == 1
        assert item(failed.pk).status == EvidenceItem.Status.REMOVED
        assert item(failed.pk).purged_at is not None
        assert storage.head(key=failed.slot_key) is None
        event = ApplicationEvent.objects.filter(application=application).last()
        assert event is not None and event.message == (
            "Submitted for review (attempt 1 of 3); left out “Unit plan.pdf”, which did not "
            "finish uploading"
        )
        # and a late confirm is refused
        error = refused(services.evidence_upload_confirm, item=failed, actor=educator)
        assert error.code == "not_editable"

    def test_a_required_step_with_only_an_unfinished_upload_says_what_to_do(
        self, make_application: Any, educator: User
    ) -> None:
        # given a reflection written, and the only lesson plan refused by storage
        application = make_application()
        services.evidence_text_save(
            application=application,
            requirement=requirement(application, "Reflection"),
            text=words(150),
            actor=educator,
        )
        refused_by_storage(application, educator)
        # when the educator submits
        error = refused(services.application_submit, application=application, actor=educator)
        # then they are told exactly what to do, and nothing changes
        assert error.code == "incomplete"
        assert error.fields == {
            "step_1": ["“Unit plan.pdf” did not finish uploading: upload it again."]
        }
        assert state(application) == (Application.Status.APPLIED, 1, 0)


class TestThePage:
    def test_it_is_shown_as_failed_with_retry_and_remove(
        self, client: Client, make_application: Any, educator: User
    ) -> None:
        # given a ready file and an upload refused by storage
        application = make_application()
        complete(application, educator)
        failed = refused_by_storage(application, educator)
        client.force_login(educator)
        # when the educator opens the application
        page = body_of(client.get(page_url(application)))
        # then it is marked as not finished, with Retry and Remove, and the steps are all done
        assert "Did not finish" in page
        assert (
            "This upload did not finish, so it is not part of your evidence. Retry it, or "
            "remove it."
        ) in page
        assert f'data-retry-item="{failed.public_id}"' in page
        assert page.count(f"/items/{failed.public_id}/remove/") == 2  # Retry and Remove
        assert "Every step is done" in page
        # and on My learning too
        assert "Every step is done: submit your evidence for review" in body_of(client.get("/me/"))

    def test_retry_removes_it_at_once_and_asks_for_the_file_again(
        self,
        client: Client,
        make_application: Any,
        educator: User,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        # given an upload whose bytes arrived but that was never confirmed
        application = make_application()
        failed = never_confirmed(application, educator)
        client.force_login(educator)
        # when the educator presses Retry (without the page's script holding the file)
        response = press(client, failed, django_capture_on_commit_callbacks, retry="1")
        # then it is gone, from the list and from storage, and the step asks for the file
        assert response.redirect_chain[-1][0] == page_url(application) + "#step-1"
        page = body_of(response)
        assert "Choose “Unit plan.pdf” again below to upload it." in page
        assert "Did not finish" not in page
        assert item(failed.pk).status == EvidenceItem.Status.REMOVED
        assert storage.head(key=failed.slot_key) is None

    def test_remove_works_at_once(
        self,
        client: Client,
        make_application: Any,
        educator: User,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        application = make_application()
        failed = refused_by_storage(application, educator)
        client.force_login(educator)
        response = press(client, failed, django_capture_on_commit_callbacks)
        assert "Removed “Unit plan.pdf”." in body_of(response)
        assert item(failed.pk).status == EvidenceItem.Status.REMOVED
        assert item(failed.pk).purged_at is not None

    def test_another_educator_gets_404(self, client: Client, make_application: Any) -> None:
        application = make_application()
        failed = refused_by_storage(application, application.educator)
        client.force_login(UserFactory())
        url = page_url(application, f"items/{failed.public_id}/remove/")
        assert client.post(url, {"retry": "1"}).status_code == 404
        assert item(failed.pk).status == EvidenceItem.Status.PENDING


class TestTheNumberOfFiles:
    def test_it_stops_counting_when_its_slot_expires(
        self, client: Client, make_application: Any, educator: User
    ) -> None:
        # given a step that takes one file, and an upload refused by storage
        application = make_application()
        lesson = requirement(application, "Lesson plan")
        lesson.max_files = 1
        lesson.save(update_fields=["max_files"])
        failed = refused_by_storage(application, educator)
        # then while its slot is open it holds the place (its upload may still be going on)
        error = refused(slot_for, application=application, actor=educator)
        assert error.code == "too_many_files"
        # when the slot expires (what storage refused for)
        EvidenceItem.objects.filter(pk=failed.pk).update(
            slot_expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
        # then the step takes a file again, on the page and in the service
        client.force_login(educator)
        page = body_of(client.get(page_url(application)))
        assert 'data-max-files="1"' in page and "Did not finish" in page
        assert slot_for(application, educator).item.status == EvidenceItem.Status.PENDING
