"""Evidence files and attempts for the browser journeys.

The files are small but real: a minimal PDF, and a one-second WebM video that Chromium records
itself (``record_video``: MediaRecorder on a painted canvas), so a reviewer's player can play it
and no video tool is needed. The server sniffs the first bytes (submissions/sniff.py), never the
name. ``submitted_attempt`` builds a whole submitted attempt through the services (the path the
browser takes, minus the browser), for journeys that start where the educator's journey ends.
"""

from __future__ import annotations

import base64
from pathlib import Path

import requests
from playwright.sync_api import Browser

from programs.models import EvidenceRequirement, Organization, User
from submissions import services
from submissions.models import Application, EvidenceItem


def one_page_pdf(line: str) -> bytes:
    """A real one-page PDF (Helvetica, one line of text) that a PDF viewer can show."""
    content = f"BT /F1 24 Tf 72 700 Td ({line}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


# A small real PDF: the server sniffs its first bytes, Chromium's viewer can show it.
PDF = one_page_pdf("Lesson plan: success criteria and a hinge question.")

_RECORD = """async (ms) => {
  const canvas = document.createElement('canvas')
  canvas.width = 160
  canvas.height = 120
  const paint = canvas.getContext('2d')
  const stream = canvas.captureStream(25)
  const recorder = new MediaRecorder(stream, { mimeType: 'video/webm;codecs=vp8' })
  const chunks = []
  recorder.ondataavailable = (event) => chunks.push(event.data)
  const stopped = new Promise((resolve) => { recorder.onstop = resolve })
  let frame = 0
  const draw = () => {
    paint.fillStyle = `hsl(${(frame * 12) % 360}, 70%, 45%)`
    paint.fillRect(0, 0, 160, 120)
    frame += 1
  }
  draw()
  recorder.start(100)
  const timer = setInterval(draw, 40)
  await new Promise((resolve) => setTimeout(resolve, ms))
  clearInterval(timer)
  recorder.stop()
  await stopped
  const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer())
  let text = ''
  for (const byte of bytes) text += String.fromCharCode(byte)
  return btoa(text)
}"""


def record_video(browser: Browser, *, seconds: float = 1.0) -> bytes:
    """A real, playable WebM (VP8, 160x120) of ``seconds``, recorded by Chromium itself."""
    context = browser.new_context()
    try:
        page = context.new_page()
        data = base64.b64decode(page.evaluate(_RECORD, int(seconds * 1000)))
    finally:
        context.close()
    assert data[:4] == b"\x1a\x45\xdf\xa3", "not a WebM"  # the EBML header
    return data


SENTENCE = "I planned the conversation with a colleague about our shared planning time."


def words(count: int) -> str:
    """Prose of about ``count`` words (whole sentences of 12 words, at least ``count``)."""
    per = len(SENTENCE.split())
    return " ".join([SENTENCE] * -(-count // per))


def write_files(directory: Path, *, video: bytes) -> dict[str, Path]:
    """The evidence an educator picks in the file chooser: a PDF and a video."""
    paths = {"pdf": directory / "Conversation plan.pdf", "video": directory / "Rehearsal.webm"}
    paths["pdf"].write_bytes(PDF)
    paths["video"].write_bytes(video)
    return paths


def _file_for(requirement: EvidenceRequirement, video: bytes) -> tuple[str, bytes, str]:
    kinds = set(requirement.accepted_file_kinds)
    if kinds & {"document", "presentation"}:
        return "plan.pdf", PDF, "application/pdf"
    if kinds & {"video", "audio"}:
        return "rehearsal.webm", video, "video/webm"
    raise NotImplementedError(f"no test file for {sorted(kinds)}")


def upload(
    application: Application, requirement: EvidenceRequirement, educator: User, *, video: bytes
) -> EvidenceItem:
    """What the uploader does: a slot, the bytes straight to S3, the confirmation, privacy."""
    filename, data, content_type = _file_for(requirement, video)
    slot = services.evidence_upload_slot(
        application=application,
        requirement=requirement,
        filename=filename,
        size=len(data),
        content_type=content_type,
        actor=educator,
    )
    assert slot.method == "POST" and slot.fields is not None
    sent = requests.post(
        slot.url,
        data=dict(slot.fields),
        files={"file": (filename, data, content_type)},
        timeout=30,
    )
    assert sent.status_code == 201, sent.text
    item = services.evidence_upload_confirm(item=slot.item, actor=educator)
    assert item.status == EvidenceItem.Status.READY, item.rejection_reason
    return services.evidence_item_privacy(
        item=item,
        students_identifiable=False,
        consent_on_file=None,
        visibility="reviewers",
        actor=educator,
    )


def submitted_attempt(
    *, organization: str, credential: str, educator: str, video: bytes
) -> Application:
    """``educator`` (an e-mail) applies for ``organization``'s ``credential`` (slugs), completes
    every file and text step (``video`` for video steps: see ``record_video``), and submits;
    committed, as the live server and the worker see it."""
    from programs.models import Credential

    org = Organization.objects.get(slug=organization)
    person = User.objects.get(email=educator)
    application = services.application_apply(
        credential=Credential.objects.get(organization=org, slug=credential), educator=person
    )
    for requirement in EvidenceRequirement.objects.filter(version_id=application.version_id):
        if requirement.kind == EvidenceRequirement.Kind.FILE:
            upload(application, requirement, person, video=video)
        elif requirement.kind == EvidenceRequirement.Kind.TEXT:
            services.evidence_text_save(
                application=application,
                requirement=requirement,
                text=words(requirement.word_min or 50),
                actor=person,
            )
        else:
            raise NotImplementedError(f"{requirement.kind} steps are not filled in yet")
    services.application_submit(application=application, actor=person)
    application.refresh_from_db()
    return application
