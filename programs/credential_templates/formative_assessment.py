"""A classroom-practice credential: plan with success criteria and a hinge question, collect
evidence from students, and show what you changed (Riverside's Formative Assessment in
Practice)."""

from __future__ import annotations

from ..demo_data.riverside import FORMATIVE_ASSESSMENT
from .base import from_demo

KEY = "formative-assessment"
TEMPLATE = from_demo(FORMATIVE_ASSESSMENT, kind_label="Classroom practice")
