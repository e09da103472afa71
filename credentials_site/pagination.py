"""The API's pagination: ``?page=N``, as its OpenAPI document says.

A page is a whole number from 1, given at most once: anything else (``page=0``, ``page=abc``,
``page=``, ``page=1&page=2``) answers 400 with ``fields.page``. A page past the last one answers
404, also with ``fields.page``; page 1 of an empty list is an empty page.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from django.core.paginator import EmptyPage
from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

from .exceptions import NotFoundError

_PAGE = re.compile(r"[1-9][0-9]*")  # ASCII digits only: int() would also take " 2", "+2", "٢"


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
                "There is no such page.",
                fields={"page": [f"The last page is {paginator.num_pages}."]},
            ) from None
        return list(self.page)

    def _page_number(self, request: Request) -> int:
        values = request.query_params.getlist(self.page_query_param)
        if not values:
            return 1
        if len(values) > 1:
            raise ValidationError({"page": ["Give one page number."]})
        if not _PAGE.fullmatch(values[0]):
            raise ValidationError({"page": ["A page is a whole number from 1."]})
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
