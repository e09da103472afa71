"""The shared cache of public pages and documents for anonymous visitors (Redis, Django's
``default`` cache), correct by construction: an entry is keyed by what the page shows, never
expired by a timer alone (docs/decisions/0011-public-page-cache.md).

**Revision tokens.** What a page shows is named by random tokens in the cache: one per
organization (``/o/<slug>/…``: its catalog, pathways, issuer documents, keys, status lists),
one per badge (``/badges/<id>/…``: its status and revision, with the badge's organization,
earner and expiry beside it) and one per user (what a badge page shows of its earner). The
services that change those call ``changed(...)``, which forgets the tokens (now and once the
transaction commits); the next reader draws a new token, so no entry rendered under the old one
answers again. A reader reads the tokens *before* it renders, so a page rendered from data older
than a change can only be stored with a token that the change has already forgotten.

**A hit** (``PublicCacheMiddleware``, placed before the session middleware) is a request
without a session or messages cookie for a view marked ``@public_page``: the entry (keyed by
the address and the variant) and the tokens it was rendered under are read in one round trip
(two for a badge), no SQL, and the stored response answers only while those tokens still hold
(``304`` when the conditional GET matches its ``ETag`` or ``Last-Modified``). A valid badge's
entry ends at its ``valid_until`` (a hit checks it too), so an expired badge is rendered again.

**A miss** renders through every middleware and the view; the response is stored only when it
is one of the policy's statuses, sets no cookie, and did not use the request's CSP nonce.
Signed-in visitors (and requests carrying a session) get the view's own response with
``Cache-Control: private, no-cache``: never the shared entry, never stored.

It imports no app: the badges app passes its own look-up (``meta``) to ``public_page``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial, wraps
from pathlib import Path
from typing import Any, TypeVar, cast

from django.apps import apps
from django.conf import settings
from django.core.cache import cache as shared_cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date, parse_http_date_safe

logger = logging.getLogger(__name__)

ORGANIZATION, BADGE, USER = "org", "badge", "user"
SAFE_METHODS = ("GET", "HEAD")
PRIVATE = "private, no-cache"
# Cache-Control for anonymous visitors (docs/decisions/0011-public-page-cache.md): catalog pages
# and issuer documents may be a minute (pages) or five (documents) old in a CDN, and served stale
# while it asks again; what says whether a badge is valid (its page, card, JSON, OB 2.0
# assertion) is revalidated on every use (a 304 from the shared cache is cheap).
PAGE = "public, max-age=60, stale-while-revalidate=300"
DOCUMENT = "public, max-age=300, stale-while-revalidate=600"
IMAGE = "public, max-age=3600, stale-while-revalidate=86400"
STATUS = "public, no-cache"
# response attributes django-csp and the clickjacking decorators read, kept with an entry
_RESPONSE_ATTRIBUTES = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
    "xframe_options_exempt",
)
_STORED_ATTRIBUTE = "_public_cache_keying"
UNTIL_ATTRIBUTE = "public_cache_until"  # a view may cap its entry's life (a datetime)
# a response the same in every language: no Vary on the language (credentials_site.locale)
LANGUAGE_INDEPENDENT = "language_independent"


@cache
def _release() -> str:
    """This deployment, as far as a cached page can tell: its static files (their manifest) and
    its templates, plus ``RELEASE`` when the deployment names itself (a commit, a tag). A new
    release never serves a page rendered by the previous one's templates or linking to its
    hashed assets."""
    digest = hashlib.sha256(settings.RELEASE.encode())
    if settings.STATIC_ROOT:
        with (
            contextlib.suppress(OSError),
            open(f"{settings.STATIC_ROOT}/staticfiles.json", "rb") as f,
        ):
            digest.update(f.read())
    for directory in sorted(_template_dirs()):
        for path in sorted(directory.rglob("*.html")):
            digest.update(str(path.relative_to(directory)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _template_dirs() -> set[Path]:
    """The project's template directories (the TEMPLATES setting's and its own apps')."""
    base = Path(settings.BASE_DIR)
    engines: list[dict[str, Any]] = settings.TEMPLATES
    dirs = {Path(d) for engine in engines for d in engine.get("DIRS", ())}
    dirs |= {
        Path(app.path) / "templates"
        for app in apps.get_app_configs()
        if Path(app.path).is_relative_to(base)
    }
    return {d for d in dirs if d.is_dir()}


def token_key(kind: str, ident: object) -> str:
    return f"{settings.PUBLIC_CACHE_PREFIX}:t:{kind}:{ident}"


def _timeout() -> int:
    return int(settings.PUBLIC_CACHE_SECONDS)


# --- Invalidation ---------------------------------------------------------------------------


def changed(
    *,
    organizations: Iterable[str] = (),
    badges: Iterable[object] = (),
    users: Iterable[object] = (),
) -> None:
    """What the public pages of these organizations (by slug), badges (by public id) or users
    (by id, as badge pages show their earner) show has changed: forget their tokens now, and
    again once the current transaction commits. (Now: the transaction's own later reads see the
    change. Again: a page rendered meanwhile from the data before the commit was stored under a
    token drawn after the first forgetting, which the second forgets. A transaction rolled back
    only cost some renders.) A failure to reach the cache is an error the caller sees, never a
    silently stale page."""
    keys = [
        *(token_key(ORGANIZATION, slug) for slug in organizations),
        *(token_key(BADGE, public_id) for public_id in badges),
        *(token_key(USER, user_id) for user_id in users),
    ]
    if keys:
        _forget(keys)
        transaction.on_commit(partial(_forget, keys))


def _forget(keys: list[str]) -> None:
    shared_cache.delete_many(keys)


def is_forgetting(callback: Callable[[], Any]) -> bool:
    """Whether an on-commit callback is ``changed``'s (for tests that count the others)."""
    return isinstance(callback, partial) and callback.func is _forget


# --- Keys -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """How a public view is cached: its ``Cache-Control`` for anonymous visitors, the headers it
    varies on, the variant of the request it answers (a content-negotiated media type), the
    statuses worth keeping, and, for badge URLs, the look-up of the badge's organization slug,
    earner id and expiry (``meta``, run in the badge's tenant scope)."""

    cache_control: str | None
    vary: tuple[str, ...] = ()
    variant: Callable[[HttpRequest], str] | None = None
    statuses: frozenset[int] = frozenset({200})
    meta: Callable[..., tuple[str, int, datetime | None] | None] | None = None


@dataclass(frozen=True)
class Keying:
    key: str
    deps: Mapping[str, str]  # token key -> token that must still hold for the entry to answer
    until: float | None  # epoch seconds the entry must not outlive


def anonymous_cacheable(request: HttpRequest) -> bool:
    """A safe request that carries no session and no pending messages: it can only be the
    anonymous page (a session, even an anonymous one, may hold messages to show)."""
    return (
        request.method in SAFE_METHODS
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and getattr(settings, "MESSAGE_COOKIE_NAME", "messages") not in request.COOKIES
    )


def _page_key(request: HttpRequest, policy: Policy, *parts: str) -> str:
    # the query string as sent (its order matters to a repeated parameter), and the host and
    # scheme (nothing of ours prints them today; a page that ever does stays right)
    query = request.META.get("QUERY_STRING", "")
    variant = policy.variant(request) if policy.variant is not None else ""
    origin = f"{request.scheme}://{request.get_host()}"
    # the language the page is rendered in (decision 0036): the language cookie, else the
    # browser's Accept-Language, as LocaleMiddleware will choose it after a miss
    language = translation.get_language_from_request(request)
    raw = "\n".join((_release(), origin, request.path, query, str(variant), language, *parts))
    return f"{settings.PUBLIC_CACHE_PREFIX}:p:" + hashlib.sha256(raw.encode()).hexdigest()


def fragment_version(*, organizations: Iterable[str]) -> str:
    """What a cached fragment of these organizations' public content is valid under (for
    ``{% cache %}``'s vary_on): this release and the organizations' current tokens, so the
    services' ``changed`` retires the fragment with the pages. Signed-in pages use it for
    their parts that are the same for every visitor."""
    tokens = [_token(token_key(ORGANIZATION, slug)) for slug in organizations]
    return ":".join((_release(), *tokens))


def _new_token() -> str:
    return secrets.token_hex(8)


def _token(key: str) -> str:
    """The current token under ``key``, drawn when there is none (``add``: a concurrent
    reader's draw wins over ours, and a change's ``delete`` over both)."""
    value = shared_cache.get(key)
    if value is None:
        shared_cache.add(key, _new_token(), None)
        value = shared_cache.get(key) or _new_token()  # evicted meanwhile: matches nothing
    return str(value)


def _badge_entry(
    badge_public_id: object, *, load: Callable[[], tuple[str, int, datetime | None] | None] | None
) -> dict[str, Any] | None:
    key = token_key(BADGE, badge_public_id)
    entry: dict[str, Any] | None = shared_cache.get(key)
    if entry is not None or load is None:
        return entry
    meta = load()
    if meta is None:
        return None
    slug, user_id, expires_at = meta
    fresh = {
        "t": _new_token(),
        "org": slug,
        "user": user_id,
        "exp": expires_at.timestamp() if expires_at is not None else None,
    }
    shared_cache.add(key, fresh, None)
    return shared_cache.get(key) or {**fresh, "t": _new_token()}


def _token_of(value: Any) -> Any:
    """A token as stored: a badge's is kept with what its pages are keyed by besides."""
    return value["t"] if isinstance(value, dict) else value


# --- The hit --------------------------------------------------------------------------------


def _lookup(request: HttpRequest, kwargs: Mapping[str, Any], policy: Policy) -> HttpResponse | None:
    """The stored response for this anonymous request, or None (a miss): the entry answers
    only while every token it was rendered under still holds, and not past its ``until``.
    One round trip under ``/o/<slug>/`` (the entry and the organization's token together), two
    for a badge (its entry, then its own, its organization's and its earner's tokens). Never
    touches the database."""
    if "badge_public_id" in kwargs:
        key = _page_key(request, policy, BADGE, str(kwargs["badge_public_id"]))
        found = {key: shared_cache.get(key)}
    elif "org_slug" in kwargs:
        key = _page_key(request, policy, ORGANIZATION, kwargs["org_slug"])
        found = shared_cache.get_many([key, token_key(ORGANIZATION, kwargs["org_slug"])])
    else:
        return None
    stored = found.get(key)
    if stored is None:
        return None
    if stored["u"] is not None and timezone.now().timestamp() >= stored["u"]:
        return None  # a badge that has expired since: rendered again, saying so
    missing = [k for k in stored["d"] if k not in found]
    if missing:
        found.update(shared_cache.get_many(missing))
    if any(_token_of(found.get(k)) != token for k, token in stored["d"].items()):
        return None
    response = HttpResponse(stored["b"], status=stored["s"])
    for name, value in stored["h"]:
        response[name] = value
    for name, value in stored["a"].items():
        setattr(response, name, value)
    return _conditional(request, response)


def _conditional(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """304 when the client's copy (its ``If-None-Match`` / ``If-Modified-Since``) is this one."""
    answer = get_conditional_response(
        request,
        etag=response.get("ETag"),
        last_modified=_parsed_date(response.get("Last-Modified")),
        response=response,
    )
    return cast(HttpResponse, answer)


def _parsed_date(value: str | None) -> int | None:
    return parse_http_date_safe(value) if value else None


class PublicCacheMiddleware:
    """Answer anonymous requests for ``@public_page`` views from the shared cache, before the
    session, authentication and tenancy middleware run; store what the view marked on the way
    out (``public_page``'s docstring says when)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if anonymous_cacheable(request):
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            policy: Policy | None = getattr(match.func, "public_cache", None) if match else None
            if match is not None and policy is not None:
                try:
                    hit = _lookup(request, match.kwargs, policy)
                except Exception:  # the cache unreachable: the page is rendered, not lost
                    logger.exception("The public page cache could not be read.")
                    hit = None
                if hit is not None:
                    return hit
        response = self.get_response(request)
        keying: Keying | None = getattr(response, _STORED_ATTRIBUTE, None)
        if keying is None:
            return response
        if (
            anonymous_cacheable(request)
            and not response.cookies
            and not isinstance(getattr(request, "_csp_nonce", None), str)
            and isinstance(response, HttpResponse)
        ):
            try:
                _store(response, keying)
            except Exception:
                logger.exception("The public page cache could not be written.")
        return _conditional(request, response) if isinstance(response, HttpResponse) else response


def _store(response: HttpResponse, keying: Keying) -> None:
    timeout = _timeout()
    if keying.until is not None:
        timeout = min(timeout, int(keying.until - timezone.now().timestamp()))
    if timeout <= 0:
        return
    entry = {
        "s": response.status_code,
        "b": response.content,
        "h": [(k, v) for k, v in response.items() if k.lower() != "set-cookie"],
        "a": {a: getattr(response, a) for a in _RESPONSE_ATTRIBUTES if hasattr(response, a)},
        "d": dict(keying.deps),
        "u": keying.until,
    }
    shared_cache.set(keying.key, entry, timeout)


# --- The view decorator ---------------------------------------------------------------------

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def public_page(
    *,
    cache_control: str | None,
    vary: tuple[str, ...] = (),
    variant: Callable[[HttpRequest], str] | None = None,
    statuses: Iterable[int] = (200,),
    meta: Callable[..., tuple[str, int, datetime | None] | None] | None = None,
) -> Callable[[View], View]:
    """Mark a public view (under ``/o/<org_slug>/`` or ``/badges/<badge_public_id>/``) as
    served to anonymous visitors from the shared cache, with ``cache_control``, an ``ETag`` (of
    what it shows) and ``Last-Modified``, varying on ``vary`` (``cache_control=None``: the
    view's own, for a document whose lifetime it computes). ``variant`` names what of the
    request changes the answer besides its path and query (content negotiation). ``meta`` (badge
    URLs) gives the badge's organization slug, earner id and ``expires_at``, or None.

    Signed-in visitors, and requests carrying a session, get the view's answer as it is, with
    ``Cache-Control: private, no-cache``. A view may cap its entry's life by setting
    ``response.public_cache_until`` (a datetime)."""
    policy = Policy(
        cache_control=cache_control,
        vary=tuple(vary),
        variant=variant,
        statuses=frozenset(statuses),
        meta=meta,
    )

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            # without a session cookie nobody is signed in: request.user is not asked (asking
            # would read the session, and the session middleware would add ``Vary: Cookie``)
            if not anonymous_cacheable(request):
                response = view(request, *args, **kwargs)
                if response.status_code in policy.statuses:
                    response["Cache-Control"] = PRIVATE
                    patch_vary_headers(response, ("Cookie", *policy.vary))
                return response
            try:
                keying = _keying_for_fill(request, kwargs, policy)
            except Exception:  # the cache unreachable: rendered and answered, not stored
                logger.exception("The public page cache could not be read.")
                keying = None
            response = view(request, *args, **kwargs)
            if keying is None or response.status_code not in policy.statuses:
                return response
            until = getattr(response, UNTIL_ATTRIBUTE, None)
            if until is not None:
                capped = until.timestamp()
                keying = Keying(
                    key=keying.key,
                    deps=keying.deps,
                    until=capped if keying.until is None else min(capped, keying.until),
                )
            # what it shows: its address and variant, its tokens, and until when it holds (a
            # badge's copy while valid ends at its expiry; the expired one has none)
            etag_source = f"{keying.key} {keying.until} " + " ".join(
                f"{k}={v}" for k, v in sorted(keying.deps.items())
            )
            response["ETag"] = '"' + hashlib.sha256(etag_source.encode()).hexdigest()[:32] + '"'
            response["Last-Modified"] = http_date(timezone.now().timestamp())
            if policy.cache_control is not None:
                response["Cache-Control"] = policy.cache_control
            if response.get("Content-Type", "").startswith("text/html"):
                # a shared cache in front must keep each language apart (the cookie and the
                # browser's header choose it) and never give this copy to a signed-in visitor
                patch_vary_headers(response, ("Accept-Language", "Cookie", *policy.vary))
            else:
                # a document (JSON-LD, an image, a status list) is the same in every language
                setattr(response, LANGUAGE_INDEPENDENT, True)
                if policy.vary:
                    patch_vary_headers(response, policy.vary)
            setattr(response, _STORED_ATTRIBUTE, keying)
            return response

        wrapper.public_cache = policy  # type: ignore[attr-defined]
        return cast(View, wrapper)

    return decorate


def _keying_for_fill(
    request: HttpRequest, kwargs: Mapping[str, Any], policy: Policy
) -> Keying | None:
    """The key to store this anonymous response under, with the tokens read before the view
    renders (drawn when missing)."""
    if "badge_public_id" in kwargs and policy.meta is not None:
        public_id = kwargs["badge_public_id"]
        meta = policy.meta
        entry = _badge_entry(public_id, load=lambda: meta(public_id=public_id))
        if entry is None:
            return None
        deps = {
            token_key(BADGE, public_id): str(entry["t"]),
            **{
                key: _token(key)
                for key in (token_key(ORGANIZATION, entry["org"]), token_key(USER, entry["user"]))
            },
        }
        expires = entry["exp"]
        expired = expires is not None and timezone.now().timestamp() >= expires
        return Keying(
            key=_page_key(request, policy, BADGE, str(public_id)),
            deps=deps,
            until=None if expired else expires,
        )
    if "org_slug" in kwargs:
        slug = kwargs["org_slug"]
        token = _token(token_key(ORGANIZATION, slug))
        return Keying(
            key=_page_key(request, policy, ORGANIZATION, slug),
            deps={token_key(ORGANIZATION, slug): token},
            until=None,
        )
    return None
