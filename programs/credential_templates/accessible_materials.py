"""An inclusive-practice credential: a material before and after, the accessibility checks,
and the effect on students (Riverside's Creating Accessible Learning Materials)."""

from __future__ import annotations

from ..demo_data.riverside import ACCESSIBLE_MATERIALS
from .base import from_demo

KEY = "accessible-materials"
TEMPLATE = from_demo(ACCESSIBLE_MATERIALS, kind_label="Inclusive practice")
