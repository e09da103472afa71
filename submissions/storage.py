"""Evidence in S3-compatible object storage. Bytes go from the browser straight to storage; this
module only signs requests and reads metadata (HEAD, a ranged GET of the first bytes)."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import boto3
from botocore.client import Config
from botocore.exceptions import ClientError
from django.conf import settings

# Uploads above this size use S3 multipart (resumable); below it, one presigned POST.
MULTIPART_THRESHOLD = 100 * 1024 * 1024
PART_SIZE = 64 * 1024 * 1024
SLOT_SECONDS = 15 * 60  # a presigned POST or part URL is valid this long
MULTIPART_SLOT_SECONDS = 24 * 60 * 60  # a multipart upload may be resumed for a day
MAX_PARTS = 10_000


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


def new_key(*, organization_id: int, application_public_id: uuid.UUID) -> str:
    """Random, tenant-prefixed; the educator's filename never enters the key."""
    return f"org-{organization_id}/app-{application_public_id}/{uuid.uuid4().hex}"


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
            ExpiresIn=SLOT_SECONDS,
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
            ExpiresIn=SLOT_SECONDS,
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


def head(*, key: str) -> StoredObject | None:
    try:
        response = client().head_object(Bucket=bucket(), Key=key)
    except ClientError as error:
        if _code(error) in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    return StoredObject(size=int(response["ContentLength"]), etag=str(response["ETag"]).strip('"'))


def read_head(*, key: str, length: int) -> bytes:
    """The first ``length`` bytes only (a ranged GET): the web process never reads a whole file."""
    response = client().get_object(Bucket=bucket(), Key=key, Range=f"bytes=0-{length - 1}")
    return bytes(response["Body"].read(length))


def delete(*, key: str) -> None:
    client().delete_object(Bucket=bucket(), Key=key)


def presigned_get(
    *, key: str, filename: str, content_type: str, inline: bool, seconds: int | None = None
) -> str:
    """A short-lived URL to view or download one object (supports Range, so video can seek)."""
    disposition = "inline" if inline else "attachment"
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


def ensure_bucket(*, cors_origins: list[str]) -> None:
    """Create the evidence bucket if needed and let the site's pages upload to it (CORS)."""
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
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3000,
                }
            ]
        },
    )
