"""A malformed request body is refused (400, naming the field) and changes nothing; it is never
read as an empty one. Claiming the next submission is the case in point: a misspelt
``adjudicaton`` or a ``"yes"`` must not claim as if nothing had been asked."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from programs.models import Organization, StaffRole, User
from reviews.models import Claim, Review
from submissions import services as submission_services
from submissions.models import Submission
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    StaffRoleFactory,
    UserFactory,
    make_credential,
)
from tests.reviews.conftest import submit_attempt

pytestmark = pytest.mark.django_db


@pytest.fixture
def org() -> Organization:
    return OrganizationFactory(slug="riverside")


@pytest.fixture
def reviewer(org: Organization) -> User:
    return StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user


@pytest.fixture
def waiting(org: Organization) -> Submission:
    """A submitted attempt in the queue."""
    educator = UserFactory()
    version = make_credential(org, non_member_fee=0)
    MembershipFactory(organization=org, user=educator, member_until=None)
    application = submission_services.application_apply(
        credential=version.credential, educator=educator
    )
    return submit_attempt(application, educator)


@pytest.fixture
def api(reviewer: User) -> APIClient:
    api = APIClient()
    api.force_login(reviewer)
    return api


CLAIMS = "/api/v1/orgs/riverside/review/claims/"


class TestClaimNextBody:
    @pytest.mark.parametrize(
        ("body", "fields"),
        [
            ([], {"non_field_errors": ["Send an object of named fields."]}),
            ("adjudication", {"non_field_errors": ["Send an object of named fields."]}),
            (7, {"non_field_errors": ["Send an object of named fields."]}),
            ({"adjudicaton": True}, {"adjudicaton": ["Unknown field."]}),
            ({"adjudication": "yes"}, {"adjudication": ["Must be true or false."]}),
            ({"adjudication": 0}, {"adjudication": ["Must be true or false."]}),
            ({"program": 5}, {"program": ["Must be a string."]}),
            ({"credential": ["a"]}, {"credential": ["Must be a string."]}),
            (
                {"program": "a", "extra": 1, "adjudication": None},
                {"extra": ["Unknown field."], "adjudication": ["This field may not be null."]},
            ),
        ],
    )
    def test_a_malformed_json_body_is_refused_and_claims_nothing(
        self, api, waiting, body, fields
    ) -> None:
        # when the reviewer asks to claim with a body that is not what the schema says
        response = api.post(CLAIMS, body, format="json")

        # then it is refused, naming what is wrong, and nothing is claimed
        assert response.status_code == 400, response.content
        assert response.json() == {
            "code": "invalid",
            "message": "Some fields are not valid.",
            "fields": fields,
        }
        assert not Claim.objects.exists()

    def test_a_null_body_is_refused(self, api, waiting) -> None:
        response = api.post(CLAIMS, "null", content_type="application/json")

        assert response.status_code == 400
        assert "non_field_errors" in response.json()["fields"]
        assert not Claim.objects.exists()

    @pytest.mark.parametrize(
        ("form", "fields"),
        [
            ("adjudication=yes", {"adjudication": ["Must be true or false."]}),
            ("program=a&program=b", {"program": ["Give this once."]}),
            ("adjudication=", {"adjudication": ["This field may not be blank."]}),
            ("nothing=1", {"nothing": ["Unknown field."]}),
        ],
    )
    def test_a_malformed_form_body_is_refused(self, api, waiting, form, fields) -> None:
        response = api.post(CLAIMS, form, content_type="application/x-www-form-urlencoded")

        assert response.status_code == 400, response.content
        assert response.json()["fields"] == fields
        assert not Claim.objects.exists()

    @pytest.mark.parametrize(
        ("body", "kwargs"),
        [
            (None, {}),
            ({}, {"format": "json"}),
            ({"program": "", "credential": "", "adjudication": False}, {"format": "json"}),
            ("adjudication=false", {"content_type": "application/x-www-form-urlencoded"}),
        ],
    )
    def test_an_empty_or_well_formed_body_claims_the_oldest(
        self, api, waiting, body, kwargs
    ) -> None:
        # when the reviewer claims with no body, an empty one, or every field at its default
        response = api.post(CLAIMS, body, **kwargs)

        # then the waiting submission is claimed, as the schema says (the body is optional)
        assert response.status_code == 201, response.content
        assert Claim.objects.get().submission_id == waiting.pk


class TestOtherInputs:
    def test_a_review_with_an_unknown_or_mistyped_field_is_refused(self, api, waiting, org) -> None:
        # given a claim
        claim = api.post(CLAIMS, {}, format="json").json()["claim"]
        url = f"/api/v1/orgs/riverside/review/claims/{claim['id']}/review/"
        criterion = claim["review"]["scores"][0]["criterion_id"]

        # when the draft names a field the review does not have, or a score as a string
        response = api.put(
            url,
            {
                "overall_feedback": "Fine.",
                "verdict": "approve",
                "scores": [{"criterion_id": criterion, "score": "1"}],
            },
            format="json",
        )

        # then both are named and nothing is saved
        assert response.status_code == 400
        fields: dict[str, Any] = response.json()["fields"]
        assert fields["verdict"] == ["Unknown field."]
        assert fields["scores"] == ["item 1: score: Must be a whole number."]
        assert not Review.objects.filter(overall_feedback="Fine.").exists()

    def test_lists_and_objects_are_taken_as_json_only(self, api, waiting) -> None:
        # given a claim
        claim = api.post(CLAIMS, {}, format="json").json()["claim"]

        # when a review (with its list of scores) comes as a form
        response = api.put(
            f"/api/v1/orgs/riverside/review/claims/{claim['id']}/review/",
            "overall_feedback=Fine.",
            content_type="application/x-www-form-urlencoded",
        )

        # then the form is refused as a type the operation does not take
        assert response.status_code == 415
        assert response.json()["code"] == "unsupported_media_type"


class TestEdgesOfTheWire:
    @pytest.fixture
    def application(self, org: Organization) -> tuple[APIClient, str]:
        educator = UserFactory()
        version = make_credential(org, non_member_fee=0)
        MembershipFactory(organization=org, user=educator, member_until=None)
        application = submission_services.application_apply(
            credential=version.credential, educator=educator
        )
        api = APIClient()
        api.force_login(educator)
        return api, f"/api/v1/orgs/riverside/applications/{application.public_id}/"

    HUGE = 10**25  # past PostgreSQL's bigint

    def test_a_step_number_past_any_database_integer_is_no_step(self, application) -> None:
        api, url = application

        # when a written answer or an upload names a step no integer column could hold
        answer = api.put(url + f"answers/{self.HUGE}/", {"text": "Hi."}, format="json")
        slot = api.post(
            url + "uploads/",
            {"step": self.HUGE, "filename": "a.pdf", "size": 10, "content_type": "application/pdf"},
            format="json",
        )

        # then each is told there is no such step (not a server error)
        for response in (answer, slot):
            assert response.status_code == 400, response.content
            assert response.json()["fields"] == {"step": [f"No step {self.HUGE}."]}

    def test_a_field_name_that_is_not_valid_text_is_named_not_a_crash(self, api, waiting) -> None:
        # when a JSON body names a field with a lone surrogate (valid JSON, invalid UTF-8)
        response = api.post(CLAIMS, '{"\\ud800": 1}', content_type="application/json")

        # then it is an unknown field, its name escaped
        assert response.status_code == 400
        assert response.json()["fields"] == {"\\ud800": ["Unknown field."]}
        assert not Claim.objects.exists()


class TestTheSchemaSays:
    @pytest.fixture
    def schema(self) -> dict[str, Any]:
        response = APIClient().get("/api/schema/", {"format": "json"})
        assert response.status_code == 200
        return response.json()  # type: ignore[no-any-return]

    def test_bodies_take_no_other_fields_and_a_patch_requires_what_it_needs(self, schema) -> None:
        components = schema["components"]["schemas"]
        claim = components["ClaimCreateInputRequest"]
        privacy = components["PatchedEvidenceItemPrivacyInputRequest"]

        assert claim["additionalProperties"] is False
        assert "required" not in claim  # every field has a default: an empty body is valid
        assert privacy["additionalProperties"] is False
        assert privacy["required"] == ["students_identifiable"]
        claims = schema["paths"]["/api/v1/orgs/{org_slug}/review/claims/"]["post"]
        assert claims["requestBody"].get("required", False) is False

    def test_every_list_documents_its_page_and_the_answers_to_a_bad_one(self, schema) -> None:
        lists = [
            (path, operation)
            for path, operations in schema["paths"].items()
            for method, operation in operations.items()
            if any(p["name"] == "page" for p in operation.get("parameters", []))
        ]

        assert len(lists) == 9  # the member sync's and the admin API's credentials among them
        for path, operation in lists:
            page = next(p for p in operation["parameters"] if p["name"] == "page")
            assert page["schema"] == {"type": "integer", "minimum": 1}, path
            assert {"400", "404"} <= set(operation["responses"]), path
