"""A coaching cycle: coach a colleague from a goal to evidence of change (after GAEL's
Leadership Coaching: an agreement and goal, coaching conversations, evidence and reflection)."""

from __future__ import annotations

from ..demo_data.gael import LEADERSHIP_COACHING
from .base import from_demo

KEY = "coaching-cycle"
TEMPLATE = from_demo(LEADERSHIP_COACHING, kind_label="Coaching cycle")
