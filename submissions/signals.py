"""Hooks for apps that build on submissions (which must not import them).

``application_approved`` is sent after the approving transaction commits, with
``organization_id`` and ``application_id``; the badges app queues the issuing task on it."""

from django.dispatch import Signal

application_approved = Signal()
