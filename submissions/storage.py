"""Evidence in S3-compatible object storage. Bytes go from the browser straight to storage; this
module signs requests, reads metadata (HEAD, a ranged GET of the first bytes) and copies objects
inside storage.

Two kinds of key, both under the application's prefix:

- an upload slot, ``org-<id>/app-<uuid>/<hex>``: the browser gets a short-lived signature to write
  it (a presigned POST, or presigned parts of a multipart upload). Items confirmed before final
  keys existed still live at their slot key.
- a final key, ``org-<id>/app-<uuid>/final/<hex>``: written only by the app's own server-side copy
  at confirm; no browser ever holds a signature for it, so its bytes are the ones that were checked.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.client import Config
from botocore.exceptions import ClientError
from django.conf import settings

from . import sniff

if TYPE_CHECKING:
    from .models import EvidenceItem

# Uploads above this size use S3 multipart (resumable); below it, one presigned POST.
MULTIPART_THRESHOLD = 100 * 1024 * 1024
PART_SIZE = 64 * 1024 * 1024
MULTIPART_SLOT_SECONDS = 24 * 60 * 60  # a multipart upload may be resumed for a day
MAX_PARTS = 10_000
# A single CopyObject copies at most 5 GB; larger objects are copied in parts (UploadPartCopy).
COPY_MULTIPART_THRESHOLD = 5 * 1024 * 1024 * 1024
COPY_PART_SIZE = 512 * 1024 * 1024

# Opened in the browser (the reviewer's page embeds them); anything else is downloaded. SVG is an
# image that can run scripts: never inline (it is never accepted as evidence either).
INLINE_PREFIXES = ("image/", "audio/", "video/", "application/pdf")
NEVER_INLINE = ("image/svg+xml",)
# A classroom video is watched and sought through for much longer than a signed link's default
# life, and a browser keeps requesting the address the first redirect gave it: audio and video
# links live hours.
MEDIA_URL_SECONDS = 4 * 60 * 60

# Error codes of a precondition that failed or an object that is not there (HEAD and ranged GETs
# answer with the bare status code).
_CHANGED = {"PreconditionFailed", "412", "NoSuchKey", "404", "NotFound"}


def slot_seconds() -> int:
    """How long a presigned POST or part URL is valid (``EVIDENCE_SLOT_EXPIRE``)."""
    return int(settings.EVIDENCE_SLOT_EXPIRE)


def opens_inline(content_type: str) -> bool:
    return content_type.startswith(INLINE_PREFIXES) and not content_type.startswith(NEVER_INLINE)


def client() -> Any:
    """For the app's own calls (HEAD, ranged GET, delete, multipart bookkeeping)."""
    return _client(settings.AWS_S3_ENDPOINT_URL)


def browser_client() -> Any:
    """For URLs that browsers use: signed for the endpoint as the browser reaches it."""
    return _client(settings.AWS_S3_PUBLIC_ENDPOINT_URL or settings.AWS_S3_ENDPOINT_URL)


@functools.cache
def _client(endpoint_url: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=settings.AWS_ACCESS_KEY_ID,
        aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
        region_name=settings.AWS_S3_REGION_NAME,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )


def bucket() -> str:
    return str(settings.AWS_STORAGE_BUCKET_NAME)


def new_key(*, organization_id: int, application_public_id: uuid.UUID, final: bool = False) -> str:
    """Random, tenant-prefixed; the educator's filename never enters the key. An upload slot's
    key, or (``final``) a key only the app's own copy writes."""
    folder = "final/" if final else ""
    return f"org-{organization_id}/app-{application_public_id}/{folder}{uuid.uuid4().hex}"


def presigned_post(*, key: str, content_type: str, max_size: int) -> dict[str, Any]:
    """A POST the browser sends straight to storage; the policy pins key, type and size."""
    return dict(
        browser_client().generate_presigned_post(
            bucket(),
            key,
            # 201 + an XML body naming the object's Location, which uploaders (Uppy) read
            Fields={"Content-Type": content_type, "success_action_status": "201"},
            Conditions=[
                ["content-length-range", 1, max_size],
                {"Content-Type": content_type},
                {"success_action_status": "201"},
            ],
            ExpiresIn=slot_seconds(),
        )
    )


def multipart_create(*, key: str, content_type: str) -> str:
    response = client().create_multipart_upload(Bucket=bucket(), Key=key, ContentType=content_type)
    return str(response["UploadId"])


def multipart_sign_part(*, key: str, upload_id: str, part_number: int) -> str:
    return str(
        browser_client().generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": bucket(),
                "Key": key,
                "UploadId": upload_id,
                "PartNumber": part_number,
            },
            ExpiresIn=slot_seconds(),
        )
    )


def multipart_list_parts(*, key: str, upload_id: str) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    marker = 0
    while True:
        response = client().list_parts(
            Bucket=bucket(), Key=key, UploadId=upload_id, PartNumberMarker=marker
        )
        parts += [
            {"PartNumber": p["PartNumber"], "ETag": p["ETag"], "Size": p["Size"]}
            for p in response.get("Parts", [])
        ]
        if not response.get("IsTruncated"):
            return parts
        marker = response["NextPartNumberMarker"]


def multipart_complete(*, key: str, upload_id: str, parts: list[dict[str, Any]]) -> None:
    client().complete_multipart_upload(
        Bucket=bucket(),
        Key=key,
        UploadId=upload_id,
        MultipartUpload={
            "Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]
        },
    )


def multipart_abort(*, key: str, upload_id: str) -> None:
    try:
        client().abort_multipart_upload(Bucket=bucket(), Key=key, UploadId=upload_id)
    except ClientError as error:
        if _code(error) not in {"NoSuchUpload", "404"}:
            raise


@dataclass(frozen=True)
class StoredObject:
    size: int
    etag: str


class ObjectChanged(Exception):
    """The object is gone, or is no longer the one that was looked at (its ETag moved)."""


def head(*, key: str) -> StoredObject | None:
    try:
        response = client().head_object(Bucket=bucket(), Key=key)
    except ClientError as error:
        if _code(error) in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    return StoredObject(size=int(response["ContentLength"]), etag=str(response["ETag"]).strip('"'))


def read_head(*, key: str, length: int, etag: str) -> bytes:
    """The first ``length`` bytes only (a ranged GET): the web process never reads a whole file.
    Pinned to ``etag`` (If-Match): other bytes raise ``ObjectChanged``."""
    try:
        response = client().get_object(
            Bucket=bucket(), Key=key, Range=f"bytes=0-{length - 1}", IfMatch=f'"{etag}"'
        )
    except ClientError as error:
        if _code(error) in _CHANGED:
            raise ObjectChanged(key) from None
        raise
    return bytes(response["Body"].read(length))


def copy_pinned(*, source: str, etag: str, size: int, target: str) -> StoredObject:
    """Copy ``source`` to ``target`` inside storage, only if ``source`` still has ``etag``
    (CopySourceIfMatch, on every part of a multipart copy), and check the copy's size (and its
    ETag, where S3 keeps it). The copy is stored as a download of unknown type: every URL the
    app signs names the type sniffed from its bytes. Raises ``ObjectChanged``, leaving no copy."""
    try:
        client().copy(
            {"Bucket": bucket(), "Key": source},
            bucket(),
            target,
            ExtraArgs={
                "CopySourceIfMatch": f'"{etag}"',
                "MetadataDirective": "REPLACE",
                "ContentType": "application/octet-stream",
                "ContentDisposition": "attachment",
            },
            Config=TransferConfig(
                multipart_threshold=COPY_MULTIPART_THRESHOLD, multipart_chunksize=COPY_PART_SIZE
            ),
        )
    except ClientError as error:
        if _code(error) in _CHANGED:
            raise ObjectChanged(source) from None
        raise
    copied = head(key=target)
    # A single-part object's ETag is the MD5 of its bytes, which one CopyObject keeps; a copy in
    # parts, or of an object uploaded in parts, gets an ETag of its own (S3 recomputes it).
    comparable = size < COPY_MULTIPART_THRESHOLD and "-" not in etag
    if copied is None or copied.size != size or (comparable and copied.etag != etag):
        delete(key=target)
        raise ObjectChanged(source)
    return copied


def delete(*, key: str) -> None:
    client().delete_object(Bucket=bucket(), Key=key)


def presigned_get(
    *, key: str, filename: str, content_type: str, inline: bool, seconds: int | None = None
) -> str:
    """A short-lived URL to view or download one object (supports Range, so video can seek).

    The response carries ``content_type`` (the type sniffed at confirm, never the browser's claim)
    and opens inline only for media the browser shows (``opens_inline``); anything else is an
    attachment, under a name with no extension that runs code (``sniff.neutralise_name``).
    A browser cannot be pinned to an ETag: a signed If-Match is a header the browser would have to
    send (SeaweedFS and S3 answer 403 without it), so the pinning is the key, which only the app
    writes (see the module's docstring).
    """
    filename = sniff.neutralise_name(filename)
    disposition = "inline" if inline and opens_inline(content_type) else "attachment"
    fallback = (
        filename.encode("ascii", "replace").decode("ascii").replace('"', "").replace("?", "_")
    )
    return str(
        browser_client().generate_presigned_url(
            "get_object",
            Params={
                "Bucket": bucket(),
                "Key": key,
                "ResponseContentType": content_type or "application/octet-stream",
                "ResponseContentDisposition": (
                    f'{disposition}; filename="{fallback}"; '
                    f"filename*=UTF-8''{quote(filename, safe='')}"
                ),
            },
            ExpiresIn=seconds or settings.AWS_QUERYSTRING_EXPIRE,
        )
    )


def evidence_media_kind(item: EvidenceItem) -> str:
    """How a page shows an evidence file: ``video``, ``audio``, ``image`` or ``pdf`` (opened in
    the browser), or ``download`` (anything else, and any type that never opens inline)."""
    content_type = item.content_type
    if not opens_inline(content_type):
        return "download"
    if content_type.startswith("application/pdf"):
        return "pdf"
    return content_type.split("/", 1)[0]


def evidence_file_url(item: EvidenceItem, *, filename: str = "", public: bool = False) -> str:
    """The signed link to an evidence file, for every page that serves one (the reviewer's, the
    calibration exemplar's, the educator's, a badge's public evidence): opened in the browser
    when ``evidence_media_kind`` says the browser shows it, downloaded otherwise, under
    ``filename`` (the item's own name unless told). Audio and video links live
    ``MEDIA_URL_SECONDS``, except a ``public`` one (a badge's evidence), which keeps the short
    default so that revoking the badge ends access within minutes."""
    kind = evidence_media_kind(item)
    return presigned_get(
        key=item.storage_key,
        filename=filename or item.display_name or "evidence",
        content_type=item.content_type,
        inline=kind != "download",
        seconds=MEDIA_URL_SECONDS if kind in ("video", "audio") and not public else None,
    )


def list_keys(*, prefix: str = "") -> list[tuple[str, Any]]:
    """Every object key with its last-modified time (for the orphan sweep)."""
    keys: list[tuple[str, Any]] = []
    paginator = client().get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket(), Prefix=prefix):
        keys += [(obj["Key"], obj["LastModified"]) for obj in page.get("Contents", [])]
    return keys


def list_multipart_uploads() -> list[tuple[str, str, Any]]:
    response = client().list_multipart_uploads(Bucket=bucket())
    return [(u["Key"], u["UploadId"], u["Initiated"]) for u in response.get("Uploads", [])]


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


EXPOSED_HEADERS = ["ETag", "Location"]


def ensure_bucket(*, cors_origins: list[str]) -> None:
    """Create the evidence bucket if needed and let the site's pages upload to it (CORS). The
    rules are put every time (start-up runs this), so an existing bucket gets the current ones."""
    s3 = client()
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket() not in existing:
        s3.create_bucket(Bucket=bucket())
    s3.put_bucket_cors(
        Bucket=bucket(),
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": cors_origins,
                    "AllowedMethods": ["GET", "HEAD", "POST", "PUT"],
                    "AllowedHeaders": ["*"],
                    # what Uppy's AwsS3 reads from storage's answers (ETag for every part;
                    # Location for a POST, or it logs an error on the console)
                    "ExposeHeaders": EXPOSED_HEADERS,
                    "MaxAgeSeconds": 3000,
                }
            ]
        },
    )
