"""The equity views' addresses (mounted beside the program dashboard's)."""

from django.urls import path

from . import views_equity

app_name = "insights_equity"

EQUITY = "o/<slug:org_slug>/insights/equity/"

urlpatterns = [
    path(EQUITY, views_equity.equity, name="equity"),
    path(EQUITY + "<slug:dimension>.csv", views_equity.equity_csv, name="equity_csv"),
]
