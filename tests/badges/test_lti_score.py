"""LTI 1.3 Assignment and Grade Services (issue 23): a learner launched from a course into a
credential earns its badge; once the issuing commits, a real worker gets a token from the
platform (a client assertion signed with the tool's key) and posts the score to the course's
line item. The platform is simulated by tests/lti_platform.py, over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs

import jwt
import pytest
from django.test import Client
from pylti1p3.exception import LtiServiceException

from programs.models import LtiGradeLink, StaffRole
from programs.services.lti import lti_scores_send
from tests.badges.test_worker import approve_committed, issued_badge
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory, make_credential
from tests.lti_platform import AGS, SimulatedPlatform
from tests.worker import running_worker, wait_for


@pytest.fixture
def celery_worker() -> Iterator[None]:
    with running_worker():
        yield


@pytest.mark.django_db(transaction=True)
def test_the_badge_issued_sends_the_score_to_the_course(
    lms: SimulatedPlatform, celery_worker: None
) -> None:
    # given a learner launched from a course into a credential (an AGS line item with it)
    organization = OrganizationFactory(slug="lti-scores")
    reviewer = StaffRoleFactory(organization=organization, role=StaffRole.Role.REVIEWER).user
    educator = UserFactory(email="learner@example.org")
    version = make_credential(organization, non_member_fee=0, credit_hours=2)
    lms.register(organization, email_domains=["example.org"])
    client = Client()
    state, nonce = lms.login(client, "lti-scores")
    token = lms.sign(
        lms.claims(nonce=nonce, org_slug="lti-scores", credential=version.credential.slug)
    )
    first = client.post("/o/lti-scores/lti/launch/", {"id_token": token, "state": state})
    assert first["Location"] == f"/o/lti-scores/credentials/{version.credential.slug}/"
    # when they apply, a reviewer approves, and the worker issues the badge
    application = approve_committed(organization, reviewer, educator=educator, version=version)
    wait_for(lambda: issued_badge(application), what="the badge")
    # then the worker posts the score to the line item, with a token the platform granted
    score = wait_for(
        lambda: next((r for r in lms.requests if r.path.endswith("/scores")), None),
        what="the score POST",
    )
    assert score.method == "POST"
    assert score.path == "/lineitems/1/lineitem/scores"
    assert score.headers["Authorization"] == "Bearer platform-token"
    assert score.headers["Content-Type"] == "application/vnd.ims.lis.v1.score+json"
    body = json.loads(score.body)
    assert body["userId"] == "lms-user-1"
    assert (body["scoreGiven"], body["scoreMaximum"]) == (1, 1)
    assert (body["activityProgress"], body["gradingProgress"]) == ("Completed", "FullyGraded")
    # and the token request was a client assertion signed with the tool's published key
    [token_request] = [r for r in lms.requests if r.path == "/token"]
    form = {k: v[0] for k, v in parse_qs(token_request.body.decode()).items()}
    assert form["grant_type"] == "client_credentials"
    assert AGS + "scope/score" in form["scope"]
    [jwk] = Client().get("/o/lti-scores/lti/jwks/").json()["keys"]
    assertion = jwt.decode(
        form["client_assertion"],
        jwt.PyJWK(jwk).key,
        algorithms=["RS256"],
        audience=f"{lms.base_url}/token",
    )
    assert assertion["iss"] == assertion["sub"] == "tessera-client"
    wait_for(
        lambda: LtiGradeLink.objects.filter(score_sent_at__isnull=False).exists(),
        what="the link marked sent",
    )
    # and a later launch lands on the learner's application
    client = Client()
    state, nonce = lms.login(client, "lti-scores")
    token = lms.sign(
        lms.claims(nonce=nonce, org_slug="lti-scores", credential=version.credential.slug)
    )
    again = client.post("/o/lti-scores/lti/launch/", {"id_token": token, "state": state})
    assert again["Location"] == f"/o/lti-scores/applications/{application.public_id}/"


@pytest.mark.django_db
def test_a_platform_that_fails_keeps_the_score_to_send_and_a_sent_one_is_not_sent_twice(
    lms: SimulatedPlatform,
) -> None:
    # given two grade links of one learner on one credential: one line item the platform
    # answers, one it does not (404)
    organization = OrganizationFactory(slug="lti-fails")
    educator = UserFactory()
    version = make_credential(organization)
    platform = lms.register(organization)
    links = [
        LtiGradeLink.objects.create(
            organization=organization,
            platform=platform,
            user=educator,
            credential=version.credential,
            subject="lms-user-1",
            resource_link_id=f"r{n}",
            lineitem_url=f"{lms.base_url}/lineitems/{n}/lineitem",
            scopes=[AGS + "scope/score"],
        )
        for n in (1, 2)
    ]
    # when the scores are sent
    with pytest.raises(LtiServiceException):
        lti_scores_send(
            organization=organization, user_id=educator.pk, credential_id=version.credential_id
        )
    # then the one answered is marked sent, the other waits for the task's retry
    sent = {link.pk: link.score_sent_at for link in LtiGradeLink.objects.all()}
    assert sent[links[0].pk] is not None and sent[links[1].pk] is None
    # and a retry does not post the first one again
    scores_before = sum(r.path.endswith("/scores") for r in lms.requests)
    with pytest.raises(LtiServiceException):
        lti_scores_send(
            organization=organization, user_id=educator.pk, credential_id=version.credential_id
        )
    posted = [r.path for r in lms.requests if r.path.endswith("/scores")][scores_before:]
    assert posted == ["/lineitems/2/lineitem/scores"]
