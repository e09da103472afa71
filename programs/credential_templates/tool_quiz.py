"""A tool credential: show how you use a classroom tool with students and pass a 20-question
quiz on it (seed 004's Screencastify credential, as Riverside's demo catalog has it). Replace the
tool's name, resources and questions for another tool; the structure stays."""

from __future__ import annotations

from ..demo_data.riverside import SCREENCASTIFY
from .base import from_demo

KEY = "tool-quiz"
TEMPLATE = from_demo(SCREENCASTIFY, kind_label="Tool credential with a quiz")
