"""A communication credential for leaders: plan a crucial conversation, rehearse it on record,
hold it and reflect (GAEL's Crucial Conversations Training)."""

from __future__ import annotations

from ..demo_data.gael import CRUCIAL_CONVERSATIONS
from .base import from_demo

KEY = "crucial-conversation"
TEMPLATE = from_demo(CRUCIAL_CONVERSATIONS, kind_label="Leadership practice")
