"""A wallet link is single-use under contention, on real PostgreSQL: wallets in threads, each
with its own connection and transaction, POST the same exchange at once; one receives the
credential, every other is refused as already used."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from badges import services
from badges.models import WalletExchange

pytestmark = pytest.mark.django_db(transaction=True)

WALLETS = 4


def test_one_of_several_wallets_racing_for_a_link_gets_the_badge(approve: Any) -> None:
    # given a badge and one wallet link for it
    badge = services.badge_issue(application_id=approve().pk)
    exchange = services.wallet_offer_create(badge=badge, user=badge.recipient)
    url = services.exchange_url(exchange)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()
    start = threading.Barrier(WALLETS)

    def wallet() -> None:
        try:
            start.wait(timeout=30)
            response = Client().post(url, "{}", content_type="application/json")
            code = response.json().get("code", "") if response.status_code != 200 else ""
            with lock:
                answers.append((response.status_code, code))
        finally:
            connection.close()

    # when several wallets POST to it at the same moment
    threads = [threading.Thread(target=wallet) for _ in range(WALLETS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then exactly one received the credential; the others were told it was already used
    assert Counter(answers) == {(200, ""): 1, (410, "exchange_used"): WALLETS - 1}
    assert WalletExchange.objects.get(pk=exchange.pk).used_at is not None
