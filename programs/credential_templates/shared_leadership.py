"""An organizational-leadership credential: distribute decisions with a team and show the
result (GAEL's Shared Leadership Best Practices)."""

from __future__ import annotations

from ..demo_data.gael import SHARED_LEADERSHIP
from .base import from_demo

KEY = "shared-leadership"
TEMPLATE = from_demo(SHARED_LEADERSHIP, kind_label="Organizational leadership")
