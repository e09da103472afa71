"""A reflection-based leadership credential: no artefact to film or upload, but three written
reflections on a leadership challenge over time (seed 000: GAEL's “Preparation of Self”,
“Development of Others” and “Leading the Organization to Produce Positive Results”)."""

from __future__ import annotations

from typing import Any

from .base import THREE_LEVELS, THREE_LEVELS_PASSING

KEY = "reflective-leadership"
TEMPLATE: dict[str, Any] = {
    "kind_label": "Reflection-based leadership",
    "title": "Reflective Leadership Practice",
    "summary": (
        "Take one leadership challenge you face this term, act on it, and show through three "
        "structured reflections how your thinking and your results changed."
    ),
    "competency": (
        "The leader uses structured reflection to examine a real leadership challenge: names "
        "their assumptions, seeks other perspectives and evidence, acts, and changes their "
        "practice from what they learn."
    ),
    "key_method": (
        "A reflective cycle (after Gibbs, and Schön's reflection-in- and on-action): describe "
        "what happened, examine feelings and assumptions, evaluate with evidence, analyse with "
        "a perspective beyond your own, conclude, and plan the next action."
    ),
    "method_components": [
        "Choose a challenge that matters to students or staff and that you can act on this term.",
        "Name your assumptions and how they shape what you notice.",
        "Seek at least one perspective other than your own: a colleague, data, research.",
        "Act, then look at what changed and for whom.",
        "Plan the next cycle from what you learned.",
    ],
    "learning_objectives": [
        "Describe a leadership challenge precisely, separating events from interpretation.",
        "Identify your assumptions and test them against evidence and others' views.",
        "Connect your reflection to research or a leadership framework.",
        "Show how your practice changed over the term, with its effect.",
    ],
    "research": (
        "Reflection is how experience becomes expertise: Schön's studies of professionals "
        "describe the reflective practitioner who reframes a problem instead of applying a "
        "routine, and Di Stefano, Gino, Pisano and Staats (2014) found that people who spent "
        "time articulating what they had learned performed measurably better than those who "
        "spent the same time practising. For school leaders, the Wallace Foundation's syntheses "
        "point to the same habit: effective principals examine their own practice with data "
        "and colleagues, not alone."
    ),
    "level": "level_1",
    "estimated_hours": "12",
    "credit_hours": None,
    "members_only": False,
    "member_fee": "0",
    "non_member_fee": "0",
    "expiry_months": None,
    "scale": THREE_LEVELS,
    "passing_score": THREE_LEVELS_PASSING,
    "resources": [
        {
            "kind": "reading",
            "title": "The Reflective Practitioner: How Professionals Think in Action",
            "description": "Donald Schön, Basic Books, 1983. Chapters 2 and 9.",
        },
        {
            "kind": "link",
            "title": "The Wallace Foundation: school leadership research",
            "description": (
                "Free reports on what effective principals do, including How Principals Affect "
                "Students and Schools (2021)."
            ),
            "url": "https://www.wallacefoundation.org/",
        },
        {
            "kind": "reading",
            "title": "Learning by Thinking: How Reflection Improves Performance",
            "description": "Di Stefano, Gino, Pisano and Staats, Harvard Business School, 2014.",
        },
    ],
    "requirements": [
        {
            "title": "Reflection 1: the challenge and your assumptions",
            "kind": "text",
            "word_min": 400,
            "word_max": 900,
            "instructions": (
                "Describe the leadership challenge you chose, who it affects and why it "
                "matters now. Separate what happened from how you interpret it, and name two "
                "assumptions you hold about it. End with the perspective or evidence you will "
                "seek before acting. Leave out names and anything that identifies people."
            ),
            "criteria": [
                {
                    "title": "The challenge and assumptions are examined",
                    "levels": [
                        "The challenge is described in general terms; interpretation and events "
                        "are mixed.",
                        "Events are separated from interpretation and two assumptions are named "
                        "and questioned.",
                        "As proficient, and the leader shows how the assumptions may shape what "
                        "they notice and plans how to test them.",
                    ],
                },
            ],
        },
        {
            "title": "Reflection 2: other perspectives and the action you took",
            "kind": "text",
            "word_min": 400,
            "word_max": 900,
            "instructions": (
                "At least three weeks later: what did other perspectives, data or research tell "
                "you? Which assumption changed? Describe the action you took as a result and "
                "what happened."
            ),
            "criteria": [
                {
                    "title": "Other perspectives inform the action",
                    "levels": [
                        "Other views are mentioned but do not influence the action.",
                        "At least one other perspective or source of evidence visibly changes "
                        "the leader's understanding and action.",
                        "Several perspectives are weighed, including one that challenged the "
                        "leader, and the action follows from them.",
                    ],
                },
                {
                    "title": "Connection to research or a framework",
                    "levels": [
                        "No research or framework is used, or it is only named.",
                        "A framework or study is used to explain the situation or the choice "
                        "of action.",
                        "The framework is applied critically: where it fits the situation and "
                        "where it does not.",
                    ],
                },
            ],
        },
        {
            "title": "Reflection 3: what changed, and what next",
            "kind": "text",
            "word_min": 400,
            "word_max": 900,
            "instructions": (
                "At the end of the term: what changed for students or staff, and how do you "
                "know? What changed in your own practice? Plan your next cycle: the challenge, "
                "the first action and the evidence you will look for."
            ),
            "criteria": [
                {
                    "title": "Growth in practice is evident",
                    "levels": [
                        "The reflection restates the earlier ones without a change in practice "
                        "or thinking.",
                        "A change in the leader's practice and its effect on others are shown "
                        "with evidence.",
                        "As proficient, and the next cycle is planned precisely from what was "
                        "learned.",
                    ],
                },
            ],
        },
    ],
}
