"""The API's pagination: ``?page=N``, as its OpenAPI document says.

A page is a whole number from 1, given at most once: anything else (``page=0``, ``page=abc``,
``page=``, ``page=1&page=2``) answers 400 with ``fields.page``. A page past the last one answers
404, also with ``fields.page``; page 1 of an empty list is an empty page.

``WindowCountPaginator`` (the catalog's pages and its API list) fetches a page and the list's
count in one statement.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, QuerySet, Window
from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

from .exceptions import NotFoundError

_PAGE = re.compile(r"[1-9][0-9]*")  # ASCII digits only: int() would also take " 2", "+2", "٢"
_TOTAL = "window_total"
_OFFSET_MAX = 2**53


class WindowCountPaginator(Paginator):
    """A paginator whose page is one statement: the page's rows carry the whole list's count
    (``COUNT(*) OVER ()``), so the list is not scanned a second time to count it. Only a page
    past the end (no rows to carry it) counts separately.

    The queryset must give each object once (no ``DISTINCT``: the window counts before it).
    """

    def __init__(self, object_list: QuerySet[Any], per_page: int, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.queryset = object_list
        if self.orphans:
            raise ValueError("WindowCountPaginator does not support orphans")

    def get_page(self, number: Any) -> Page:
        """As ``Paginator.get_page`` (page 1 for a bad number, the last past the end), without
        counting first."""
        try:
            return self.page(number)
        except PageNotAnInteger:
            return self.page(1)
        except EmptyPage:
            return self.page(self.num_pages)

    def page(self, number: Any) -> Page:
        number = self._whole_number(number)
        bottom = (number - 1) * self.per_page
        if bottom > _OFFSET_MAX:  # past any list, and past what OFFSET takes (a bigint)
            self.validate_number(number)
        rows = list(
            self.queryset.annotate(**{_TOTAL: Window(Count("pk"))})[bottom : bottom + self.per_page]
        )
        if rows:
            self.__dict__["count"] = getattr(rows[0], _TOTAL)  # the cached_property's slot
        elif number == 1:
            self.__dict__["count"] = 0
        if not rows and number > 1:
            self.validate_number(number)  # counts, then says it is past the end
            raise EmptyPage(self.error_messages["no_results"])  # the list shrank meanwhile
        return Page(rows, number, self)

    def _whole_number(self, number: Any) -> int:
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number


class PageNumberPagination(pagination.PageNumberPagination):
    last_page_strings = ()  # the schema says a page is an integer: no ?page=last

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        paginator = self.django_paginator_class(queryset, page_size)
        try:
            self.page = paginator.page(self._page_number(request))
        except EmptyPage:
            raise NotFoundError(
                _("There is no such page."),
                fields={"page": [_("The last page is %(last)s.") % {"last": paginator.num_pages}]},
            ) from None
        return list(self.page)

    def _page_number(self, request: Request) -> int:
        values = request.query_params.getlist(self.page_query_param)
        if not values:
            return 1
        if len(values) > 1:
            raise ValidationError({"page": [_("Give one page number.")]})
        if not _PAGE.fullmatch(values[0]):
            raise ValidationError({"page": [_("A page is a whole number from 1.")]})
        # more digits than any list has pages (and int() refuses 4,300 of them): past the last
        return int(values[0]) if len(values[0]) <= 18 else sys.maxsize

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": f"A page number, from 1 ({self.page_size} results a page). Not a "
                "whole number from 1: 400; past the last page: 404.",
                "schema": {"type": "integer", "minimum": 1},
            }
        ]


class WindowCountPagination(PageNumberPagination):
    """The API's pagination, counting with the page (``WindowCountPaginator``)."""

    django_paginator_class = WindowCountPaginator


class CursorPagination(pagination.CursorPagination):
    """A list to walk through whole (an organization's system syncing applications): ``?cursor=``
    from the previous page's ``next``, stable while rows are added, never counting the list.
    ``?limit=`` up to ``max_page_size``. A cursor that is not one of ours: 400, fields.cursor."""

    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 500
    ordering = ("-created_at", "-pk")

    def decode_cursor(self, request: Request) -> Any:
        values = request.query_params.getlist(self.cursor_query_param)
        if len(values) > 1:
            raise ValidationError({"cursor": [_("Give one cursor.")]})
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError(
                {"cursor": [_("Not a cursor of this list: use a page's next or previous link.")]}
            ) from None

    def get_page_size(self, request: Request) -> int:
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        if len(values) > 1 or not _PAGE.fullmatch(values[0]) or len(values[0]) > 4:
            raise ValidationError(
                {
                    "limit": [
                        _("A limit is a whole number from 1 to %(most)s.")
                        % {"most": self.max_page_size}
                    ]
                }
            )
        return min(int(values[0]), self.max_page_size)
