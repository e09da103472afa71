"""Tenant tasks re-enter their organization's scope, on a real Celery worker over Redis."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
from django_scopes import scopes_disabled

from programs.models import Membership
from programs.tasks import membership_lapse_expired, membership_lapse_expired_all
from tests.factories import MembershipFactory, OrganizationFactory
from tests.worker import running_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.scoped]


@pytest.fixture
def celery_worker() -> Iterator[None]:
    with running_worker():
        yield


def _expired_membership(org) -> Membership:  # type: ignore[no-untyped-def]
    return MembershipFactory(organization=org, member_until=dt.date(2020, 1, 31))


def test_task_changes_only_its_own_organization(celery_worker: None) -> None:
    # given two organizations, each with a membership that ended in 2020
    with scopes_disabled():
        org_a, org_b = OrganizationFactory(), OrganizationFactory()
        lapsed_a, still_b = _expired_membership(org_a), _expired_membership(org_b)
    # when the worker runs the task for A
    changed = membership_lapse_expired.delay(organization_id=org_a.pk).get(timeout=30)
    # then only A's membership lapsed
    assert changed == 1
    with scopes_disabled():
        assert Membership.objects.get(pk=lapsed_a.pk).status == Membership.Status.LAPSED
        assert Membership.objects.get(pk=still_b.pk).status == Membership.Status.ACTIVE


def test_running_twice_changes_nothing_more(celery_worker: None) -> None:
    with scopes_disabled():
        org = OrganizationFactory()
        _expired_membership(org)
    assert membership_lapse_expired.delay(organization_id=org.pk).get(timeout=30) == 1
    assert membership_lapse_expired.delay(organization_id=org.pk).get(timeout=30) == 0


def test_beat_fan_out_reaches_every_organization(celery_worker: None) -> None:
    with scopes_disabled():
        orgs = [OrganizationFactory() for _ in range(2)]
        memberships = [_expired_membership(org) for org in orgs]
    membership_lapse_expired_all.delay().get(timeout=30)
    # the fan-out queues one task per organization; wait for the worker to drain them
    for _ in range(100):
        with scopes_disabled():
            statuses = {
                m.status for m in Membership.objects.filter(pk__in=[m.pk for m in memberships])
            }
        if statuses == {Membership.Status.LAPSED}:
            break
        time.sleep(0.1)
    assert statuses == {Membership.Status.LAPSED}


def test_tenant_task_without_organization_is_refused(celery_worker: None) -> None:
    with pytest.raises(TypeError, match="organization_id"):
        membership_lapse_expired.apply_async(kwargs={}).get(timeout=30)
