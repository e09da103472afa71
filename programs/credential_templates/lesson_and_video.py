"""A practice credential: a lesson plan, a video of the lesson taught, and a reflection on
what the video shows (seed 003: “demonstrated mastery through evidence such as lesson plans,
student work, or classroom videos”). Set the practice in ``competency`` and ``key_method``;
the evidence and the rubric fit most classroom strategies."""

from __future__ import annotations

from typing import Any

from .base import THREE_LEVELS, THREE_LEVELS_PASSING

KEY = "lesson-and-video"
TEMPLATE: dict[str, Any] = {
    "kind_label": "Classroom practice with video",
    "title": "Classroom Practice: Lesson Plan and Video",
    "summary": (
        "Plan a lesson around one research-based strategy, teach it on video, and show with "
        "your students' responses how the strategy moved their learning."
    ),
    "competency": (
        "The educator plans and teaches a lesson in which a named instructional strategy is "
        "used deliberately, checks during the lesson whether students are learning, and "
        "adjusts the teaching from that evidence."
    ),
    "key_method": (
        "Deliberate practice of one strategy: name it, plan where it happens in the lesson and "
        "what students will do, teach it, then study the recording against the plan."
    ),
    "method_components": [
        "A learning intention and success criteria students can understand.",
        "The strategy placed at a precise moment of the lesson, with the teacher's prompts "
        "written out.",
        "A check for understanding that gives evidence from every student.",
        "An adjustment decided from that evidence, during or right after the lesson.",
        "Review of the recording: what students did, not only what the teacher did.",
    ],
    "learning_objectives": [
        "Explain the strategy and the research behind it in your own words.",
        "Plan a lesson that uses the strategy at a purposeful moment.",
        "Collect evidence of every student's understanding during the lesson.",
        "Use a recording of your teaching to judge the strategy's effect and plan what next.",
    ],
    "research": (
        "Video lets teachers see their practice as students experience it. In the Measures of "
        "Effective Teaching project's follow-up studies, teachers who chose and reviewed "
        "recordings of their own lessons rated their practice more accurately and found "
        "observations fairer than live visits. Coaching research (Kraft, Blazar and Hogan, "
        "2018) finds the largest effects when feedback is specific to observed practice, "
        "which a recording makes possible. Replace this paragraph with the research on the "
        "strategy this credential is about."
    ),
    "level": "foundational",
    "estimated_hours": "10",
    "credit_hours": None,
    "members_only": False,
    "member_fee": "0",
    "non_member_fee": "0",
    "expiry_months": None,
    "scale": THREE_LEVELS,
    "passing_score": THREE_LEVELS_PASSING,
    "resources": [
        {
            "kind": "link",
            "title": "Edutopia: Video in teacher professional learning",
            "description": (
                "Short articles and examples of teachers recording and studying their lessons, "
                "with practical advice on cameras, sound and consent."
            ),
            "url": "https://www.edutopia.org/",
        },
        {
            "kind": "reading",
            "title": "Focus on Teaching: Using Video for High-Impact Instruction",
            "description": (
                "Jim Knight, Corwin, 2014. Chapters 3 and 4: how to record, and how to watch "
                "your own video without only noticing yourself."
            ),
        },
        {
            "kind": "reading",
            "title": "Your district's recording and consent guidance",
            "description": (
                "Replace with your organization's policy on filming students: who must consent, "
                "and how recordings are stored and deleted."
            ),
        },
    ],
    "requirements": [
        {
            "title": "Lesson plan",
            "kind": "file",
            "accepted_file_kinds": ["document"],
            "max_file_size_mb": 20,
            "max_files": 1,
            "instructions": (
                "Upload the plan of the lesson you will record (one to three pages). Name the "
                "strategy, the learning intention and success criteria, the moment the strategy "
                "is used with the prompts you will say, and how you will check every student's "
                "understanding. Remove students' names."
            ),
            "criteria": [
                {
                    "title": "The strategy is planned with purpose",
                    "description": "Where and why the strategy is used in the lesson.",
                    "levels": [
                        "The strategy is named but its place in the lesson or its purpose is "
                        "unclear.",
                        "The strategy is placed at a moment where it serves the learning "
                        "intention, with the teacher's prompts written out.",
                        "As proficient, and the plan anticipates how students may respond and "
                        "what the teacher will do in each case.",
                    ],
                },
                {
                    "title": "Learning is checked",
                    "levels": [
                        "The plan checks understanding with a few volunteers or not at all.",
                        "A check gives evidence from every student against the success criteria.",
                        "As proficient, and the plan states what result would lead to which "
                        "adjustment.",
                    ],
                },
            ],
        },
        {
            "title": "Video of the lesson",
            "kind": "file",
            "accepted_file_kinds": ["video"],
            "max_file_size_mb": 2048,
            "max_files": 1,
            "instructions": (
                "Record the part of the lesson where you use the strategy (10 to 20 minutes, "
                "uncut). Point the camera so that students' responses can be seen or heard, "
                "with your organization's consent for filming. Say at the start which minute "
                "the strategy begins."
            ),
            "criteria": [
                {
                    "title": "The strategy is carried out well",
                    "levels": [
                        "The strategy is attempted but differs from the plan in ways that lose "
                        "its purpose, or few students take part.",
                        "The strategy is used as planned and most students take part in it.",
                        "All students take part, and the teacher adapts the strategy in the "
                        "moment from what students say or do.",
                    ],
                },
            ],
        },
        {
            "title": "Reflection on the video",
            "kind": "text",
            "word_min": 300,
            "word_max": 800,
            "instructions": (
                "Watch your recording and write what it shows: what students did during the "
                "strategy (quote or time-stamp two moments), what the check for understanding "
                "told you, what you changed or will change, and what you will try next time."
            ),
            "criteria": [
                {
                    "title": "Reflection is grounded in evidence",
                    "levels": [
                        "The reflection describes the lesson in general terms.",
                        "Specific, time-stamped moments and students' responses support the "
                        "conclusions, including what did not work.",
                        "As proficient, and the next step is concrete and already planned in a "
                        "later lesson.",
                    ],
                },
            ],
        },
    ],
}
