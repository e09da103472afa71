"""Transcripts (issue 20): "My transcript" (/me/transcript/) lists every badge of the educator
from every organization with its credit hours and CEUs, as a page, a PDF and a signed CLR 2.0
record (1EdTech's vector reproduced, Digital Bazaar's verifier satisfied); a program admin
downloads the credit hours their organization's members earned in a period, as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zlib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from badges import clr, dataintegrity, services
from badges.models import Badge
from programs.models import Membership, Organization, StaffRole, User
from submissions.models import Application
from tests.badges.conftest import VECTORS
from tests.badges.test_independent_verifier import verify_independently
from tests.badges.test_views_backpack import earn, logged_in
from tests.conftest import assert_same_query_count
from tests.factories import (
    OrganizationFactory,
    StaffRoleFactory,
    UserFactory,
    make_credential,
)

pytestmark = pytest.mark.django_db

CLR_VECTOR = VECTORS / "clrv2p0"
PAGE = "/me/transcript/"
PDF = "/me/transcript/transcript.pdf"
CLR = "/me/transcript/clr.json"
CSV_URL = "/admin/badges/badge/credit-hours/"


@pytest.fixture
def educator() -> User:
    return UserFactory(email="ines.ortega@example.org", full_name="Inés Ortega")


@pytest.fixture
def riverside() -> Organization:
    return OrganizationFactory(name="Riverside Unified", slug="riverside", short_name="RUSD")


@pytest.fixture
def gael() -> Organization:
    return OrganizationFactory(name="GAEL", slug="gael", short_name="GAEL")


@pytest.fixture
def record(educator: User, riverside: Organization, gael: Organization) -> dict[str, Badge]:
    """Three valid badges from two organizations (3 + 1.5 credit hours, 0.3 CEUs, one with
    none) and a revoked one worth 2 hours."""
    badges = {
        "coaching": earn(
            educator,
            riverside,
            title="Coaching Cycles",
            credit_hours=Decimal(3),
            ceus=Decimal("0.3"),
        ),
        "feedback": earn(educator, gael, title="Feedback Loops", credit_hours=Decimal("1.5")),
        "norms": earn(educator, gael, title="Classroom Norms"),
        "revoked": earn(educator, riverside, title="Withdrawn Work", credit_hours=Decimal(2)),
    }
    services.badge_revoke(badge=badges["revoked"], reason="Copied evidence.", actor=None)
    return badges


# --- The CLR 2.0 vector, byte for byte -----------------------------------------------------------


def test_our_builder_and_signer_reproduce_the_clr_vector_byte_for_byte() -> None:
    # given the parts of 1EdTech's CLR 2.0 vector: its issuer, subject, embedded credential,
    # achievements, association, and its key
    vector = json.loads((CLR_VECTOR / "vector.json").read_text())
    published = json.loads((CLR_VECTOR / "credential.json").read_text())
    subject = published["credentialSubject"]
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(vector["keyPair"]["seedHex"]))
    # when our CLR builder assembles them and the badges' signer signs the record
    document = clr.clr_credential(
        credential_id=published["id"],
        issuer=published["issuer"],
        valid_from=published["validFrom"],
        name=published["name"],
        subject_id=subject["id"],
        credentials=subject["verifiableCredential"],
        achievements=subject["achievement"],
        associations=subject["association"],
    )
    options = {**vector["proofOptions"], "@context": document["@context"]}
    signed = dataintegrity.sign(
        document,
        private_key=key,
        verification_method=vector["proofOptions"]["verificationMethod"],
        created=vector["proofOptions"]["created"],
    )
    # then the document, both canonical forms, the signature and the signed file are the
    # published ones, to the byte
    assert json.dumps(document, indent=2) + "\n" == (CLR_VECTOR / "credential.json").read_text()
    assert dataintegrity.canonize(document) == (CLR_VECTOR / "document-canon.txt").read_text()
    assert dataintegrity.canonize(options) == (CLR_VECTOR / "proof-canon.txt").read_text()
    assert signed["proof"][0]["proofValue"] == vector["expected"]["proofValue"]
    assert (
        json.dumps(signed, indent=2) + "\n" == (CLR_VECTOR / "signed-credential.json").read_text()
    )


# --- An issued CLR -------------------------------------------------------------------------------


def test_an_issued_clr_passes_digital_bazaars_verifier(
    record: dict[str, Badge], educator: User, tmp_path: Path
) -> None:
    # given an educator's record, downloaded
    client = logged_in(educator)
    response = client.get(CLR)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="transcript-clr-')
    issued = json.loads(response.content)
    # it embeds each valid badge exactly as it was signed, and never the revoked one
    subject = issued["credentialSubject"]
    embedded = {c["id"]: c for c in subject["verifiableCredential"]}
    valid = [record[k] for k in ("coaching", "feedback", "norms")]
    assert embedded == {b.credential["id"]: b.credential for b in valid}
    assert record["revoked"].credential["id"] not in embedded
    assert {a["name"] for a in subject["achievement"]} == {
        "Coaching Cycles",
        "Feedback Loops",
        "Classroom Norms",
    }
    assert issued["issuer"]["id"] == clr.platform_did()
    assert subject["identifier"][0]["identityHash"].startswith("sha256$")
    # when Digital Bazaar's verifier checks it against the DID document our site serves
    did_document = json.loads(client.get("/.well-known/did.json").content)
    result = verify_independently(issued, {clr.platform_did(): did_document}, tmp_path)
    # then it verifies, and a tampered copy does not (checked with our own verifier)
    assert result["verified"] is True, result
    keys = {m["id"]: m["publicKeyMultibase"] for m in did_document["verificationMethod"]}

    def resolve(method: str) -> Any:
        found = keys.get(method)
        return dataintegrity.public_key_from_multibase(found) if found else None

    assert dataintegrity.verify(issued, resolve_key=resolve).verified
    subject["achievement"][0]["name"] = "Doctor of Everything"
    assert not dataintegrity.verify(issued, resolve_key=resolve).verified


def test_without_a_valid_badge_there_is_no_record_to_download(educator: User) -> None:
    client = logged_in(educator)
    response = client.get(CLR, follow=True)
    assert response.redirect_chain[-1][0] == PAGE
    assert "no valid badge yet" in response.content.decode()


# --- The page ------------------------------------------------------------------------------------


def _cells(html: str, section_id: str) -> list[list[str]]:
    """The text of each body row of the table under ``section_id``'s heading."""
    section = html.split(f'id="{section_id}"', 1)[1].split("</section>", 1)[0]
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
        ]
        for r in rows
    ]


def test_the_transcript_lists_every_organizations_badges_and_counts_only_valid_ones(
    record: dict[str, Badge], educator: User
) -> None:
    # when the educator opens their transcript
    response = logged_in(educator).get(PAGE)
    html = response.content.decode()
    # then the valid badges of both organizations are listed with their hours, newest first
    current = _cells(html, "current-heading")
    assert [row[:4] for row in current] == [
        ["Classroom Norms", "GAEL", "—", "—"],
        ["Feedback Loops", "GAEL", "1.5", "—"],
        ["Coaching Cycles", "Riverside Unified", "3", "0.3"],
    ]
    today = timezone.localdate().isoformat()
    assert all(row[4] == today and row[5] == "No expiry" for row in current)
    # the totals count them alone: 4.5 hours, 0.3 CEUs, 3 badges
    assert 'data-total="badges">3<' in html
    assert 'data-total="credit-hours">4.5<' in html
    assert 'data-total="ceus">0.3<' in html
    # the revoked one is listed apart, said to be revoked, not counted
    [revoked] = _cells(html, "inactive-heading")
    assert revoked[0] == "Withdrawn Work" and revoked[2] == "2" and revoked[-1] == "Revoked"
    assert "not counted" in html
    # and both downloads are offered
    assert f'href="{PDF}"' in html and f'href="{CLR}"' in html


def test_an_educator_sees_only_their_own_transcript(
    record: dict[str, Badge], riverside: Organization
) -> None:
    # given another educator with a badge of their own
    other = UserFactory(full_name="Other Person")
    theirs = earn(other, riverside, title="Someone Else's Badge")
    # their transcript, PDF and record hold theirs and none of Inés's
    client = logged_in(other)
    html = client.get(PAGE).content.decode()
    assert "Someone Else&#x27;s Badge" in html
    assert "Coaching Cycles" not in html and "Feedback Loops" not in html
    ids = [
        c["id"]
        for c in json.loads(client.get(CLR).content)["credentialSubject"]["verifiableCredential"]
    ]
    assert ids == [theirs.credential["id"]]
    assert "Coaching Cycles" not in _pdf_text(client.get(PDF).content)
    # and nobody signed out gets any of it
    for url in (PAGE, PDF, CLR):
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_empty_transcript_says_so_and_offers_no_record() -> None:
    html = logged_in(UserFactory()).get(PAGE).content.decode()
    assert "No badges yet." in html
    assert CLR not in html


def _pdf_text(pdf: bytes) -> str:
    """The text drawn in a PDF made by fpdf2 (its page streams, inflated)."""
    assert pdf.startswith(b"%PDF-")
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
    text = []
    for stream in streams:
        try:
            text.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            text.append(stream.decode("latin-1"))
    return "".join(text)


def test_the_pdf_is_a_pdf_of_the_transcript(record: dict[str, Badge], educator: User) -> None:
    response = logged_in(educator).get(PDF)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="transcript-')
    text = _pdf_text(response.content)
    for title in ("Coaching Cycles", "Feedback Loops", "Classroom Norms", "Withdrawn Work"):
        assert title in text
    assert "Transcript of In" in text  # "Inés", in the PDF's Latin-1 font encoding
    assert "4.5" in text


def test_the_pdf_is_in_the_readers_language(record: dict[str, Badge], educator: User) -> None:
    # given an educator who reads Spanish (the language cookie of the switcher)
    client = logged_in(educator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    # when they download their transcript as a PDF
    response = client.get(PDF)
    # then it renders, its headings and labels in Spanish, accents and all (Helvetica's Latin-1)
    assert response.status_code == 200
    text = _pdf_text(response.content)
    assert "Expediente de In" in text
    # (a PDF string escapes parentheses)
    assert "Insignias v\xe1lidas \\(se cuentan en los totales\\)" in text
    assert "Insignias vencidas o revocadas \\(no se cuentan\\)" in text
    assert "Organizaci\xf3n" in text
    assert "Transcript of" not in text
    for title in ("Coaching Cycles", "Feedback Loops", "Classroom Norms", "Withdrawn Work"):
        assert title in text


def test_the_pdf_draws_spanish_letters_and_signs() -> None:
    # given a transcript in Spanish whose educator's name has every accented letter and sign
    user = UserFactory(full_name="¿Begoña Ibáñez Núñez? ¡Sí, Güemes!")
    with translation.override("es"):
        # when it is made as a PDF
        pdf = services.transcript_pdf(services.transcript_get(user=user))
    # then the Latin-1 font draws each character as itself, none replaced by "?"
    text = _pdf_text(pdf)
    assert "Expediente de \xbfBego\xf1a Ib\xe1\xf1ez N\xfa\xf1ez? \xa1S\xed, G\xfcemes!" in text


def _badge_like(like: Badge, recipient: User, **version_fields: Any) -> Badge:
    """A badge of a new credential of ``like``'s organization for ``recipient``, written
    straight to the database (the list's size is what matters, not how it was issued)."""
    version = make_credential(like.organization, **version_fields)
    application = Application.objects.create(
        organization_id=like.organization_id,
        educator=recipient,
        credential_id=version.credential_id,
        version=version,
        status=Application.Status.AWARDED,
    )
    return Badge.objects.create(
        organization_id=like.organization_id,
        recipient=recipient,
        application=application,
        version=version,
        name=version.title,
        status_list=like.status_list,
        status_index=20_000 + Badge.objects.count(),
        signing_key=like.signing_key,
        credential=like.credential,
        salt=like.salt,
    )


def test_the_page_runs_the_same_queries_for_1_or_10_badges(
    educator: User, riverside: Organization, count_queries: Callable[..., Any]
) -> None:
    client = logged_in(educator)
    first = earn(educator, riverside, credit_hours=Decimal(1))
    client.get(PAGE)
    small = count_queries(lambda: client.get(PAGE))
    for _ in range(9):
        _badge_like(first, educator, credit_hours=Decimal(1))
    large = count_queries(lambda: client.get(PAGE))
    assert 'data-total="credit-hours">10<' in client.get(PAGE).content.decode()
    assert_same_query_count(small, large)


# --- The organization's CSV -------------------------------------------------------------------


def _admin(organization: Organization) -> Client:
    admin = StaffRoleFactory(organization=organization, role=StaffRole.Role.PROGRAM_ADMIN).user
    return logged_in(admin)


def _csv(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_the_csv_holds_the_credit_hours_members_earned_in_the_period(
    record: dict[str, Badge], riverside: Organization, educator: User
) -> None:
    # given, beside Inés's badges, a Riverside badge of someone who is no longer on its roster,
    # one issued last year, and a member whose name is a spreadsheet formula
    stranger = UserFactory(email="gone@example.org")
    left = earn(stranger, riverside, credit_hours=Decimal(5))
    Membership.objects.filter(organization=riverside, user=stranger).delete()
    old = earn(educator, riverside, title="Last Year", credit_hours=Decimal(9))
    Badge.objects.filter(pk=old.pk).update(issued_at=timezone.now() - dt.timedelta(days=400))
    formula = UserFactory(email="x@example.org", full_name='=HYPERLINK("http://evil","click")')
    earn(formula, riverside, title="Formula Check", credit_hours=Decimal("1.5"))
    Membership.objects.filter(organization=riverside, user=formula).update(school="+Lincoln")
    today = timezone.localdate()
    # when a Riverside program admin downloads this year's CSV
    response = _admin(riverside).get(
        CSV_URL,
        {"org": "riverside", "download": "1", "start": f"{today.year}-01-01", "end": str(today)},
    )
    # then it is a streamed CSV of Riverside members' badges in the period, revoked ones left
    # out, GAEL's badges left out, cells that a spreadsheet would run escaped
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    rows = _csv(response)
    assert rows[0] == list(services.CREDIT_HOURS_HEADER)
    by_badge = {row[7]: row for row in rows[1:]}
    assert set(by_badge) == {"Coaching Cycles", "Formula Check"}
    coaching = by_badge["Coaching Cycles"]
    assert coaching[0] == educator.email and coaching[6] == "active"
    assert (coaching[11], coaching[12]) == ("3", "0.3")
    assert coaching[13].endswith(f"/badges/{record['coaching'].public_id}/")
    formula_row = by_badge["Formula Check"]
    assert formula_row[1] == "'" + formula.full_name
    assert formula_row[2] == "'+Lincoln"
    assert left.name not in by_badge


def test_a_bad_period_is_refused_with_a_message_and_no_file(riverside: Organization) -> None:
    client = _admin(riverside)
    response = client.get(CSV_URL, {"download": "1", "start": "2026-05-01", "end": "2026-04-01"})
    assert response.status_code == 400
    assert "The last day comes before the first." in response.content.decode()
    response = client.get(CSV_URL, {"download": "1", "start": "soon", "end": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid date." in html and "This field is required." in html
    # the form itself, before any download
    page = client.get(CSV_URL)
    assert page.status_code == 200 and "Download CSV" in page.content.decode()


def test_another_organizations_credit_hours_answer_404(
    riverside: Organization, gael: Organization
) -> None:
    # a Riverside admin asks for GAEL's export
    client = _admin(riverside)
    response = client.get(
        CSV_URL, {"org": "gael", "download": "1", "start": "2026-01-01", "end": "2026-12-31"}
    )
    assert response.status_code == 404
    assert client.get(CSV_URL, {"org": "gael"}).status_code == 404
    # and an educator (no admin role) cannot open the page at all
    response = logged_in(UserFactory()).get(CSV_URL)
    assert response.status_code in (302, 403, 404)


def test_an_admin_of_two_organizations_gets_the_one_they_chose(
    record: dict[str, Badge], riverside: Organization, gael: Organization
) -> None:
    # given a program admin of both organizations
    admin = StaffRoleFactory(organization=riverside, role=StaffRole.Role.OWNER).user
    StaffRoleFactory(organization=gael, role=StaffRole.Role.PROGRAM_ADMIN, user=admin)
    client = logged_in(admin)
    # the badges list links the export, and the page offers both organizations
    assert CSV_URL in client.get("/admin/badges/badge/").content.decode()
    assert 'href="?org=gael"' in client.get(CSV_URL).content.decode()
    # when they download GAEL's
    today = timezone.localdate()
    rows = _csv(
        client.get(
            CSV_URL,
            {"org": "gael", "download": "1", "start": f"{today.year}-01-01", "end": str(today)},
        )
    )
    # then it holds GAEL's badges only, once each (hours blank where the version has none)
    assert sorted((r[7], r[11]) for r in rows[1:]) == [
        ("Classroom Norms", ""),
        ("Feedback Loops", "1.5"),
    ]


def test_ceus_are_shown_on_the_credential_page(riverside: Organization) -> None:
    version = make_credential(riverside, credit_hours=Decimal(15), ceus=Decimal("1.5"))
    html = Client().get(f"/o/riverside/credentials/{version.credential.slug}/").content.decode()
    assert "<dt>Credit hours</dt><dd>15</dd>" in html
    assert "<dt>CEUs</dt><dd>1.5</dd>" in html


def test_a_pathway_certificate_is_the_parent_of_its_micro_credentials_in_the_record() -> None:
    # given the achievements of two badges and of the pathway certificate that requires them
    # and a third one the educator has not earned
    one, two = (
        {"id": f"https://example.org/o/r/credentials/c{i}/v1/", "type": ["Achievement"]}
        for i in (1, 2)
    )
    missing = "https://example.org/o/r/credentials/c3/v1/"
    pathway = {
        "id": "https://example.org/o/r/pathways/p/",
        "type": ["Achievement"],
        "alignment": [
            {"type": ["Alignment"], "targetUrl": t, "targetType": "ceterms:Credential"}
            for t in (one["id"], two["id"], missing)
        ],
    }
    credentials = [{"credentialSubject": {"achievement": a}} for a in (pathway, one, two, one)]
    # when the record's achievements and associations are made
    achievements = clr.achievements_of(credentials)
    # then each achievement is listed once, and the certificate is the parent of those held
    assert achievements == [pathway, one, two]
    assert clr.associations_of(achievements) == [
        {
            "type": "Association",
            "associationType": "isParentOf",
            "sourceId": pathway["id"],
            "targetId": child,
        }
        for child in (one["id"], two["id"])
    ]
