"""Riverside Unified School District (fictional): a district running its own professional
learning micro-credentials, drawn from the seeds' categories (digital teaching tools, inclusive
education, assessment, instructional design), open to all educators, some with a fee.

Every rubric criterion lists its descriptors for the demo scale
0 Not yet evident / 1 Developing / 2 Proficient / 3 Exemplary; 2 passes.
"""

from __future__ import annotations

from typing import Any

from .screencastify_quiz import SCREENCASTIFY_QUIZ

_ALL = ["teachers", "instructional-coaches", "school-leaders"]

FORMATIVE_ASSESSMENT: dict[str, Any] = {
    "slug": "formative-assessment-in-practice",
    "title": "Formative Assessment in Practice",
    "summary": (
        "Check for understanding during a lesson, read the evidence students give you, and "
        "change what you teach next because of it."
    ),
    "competency": (
        "The teacher shares clear learning intentions and success criteria, elicits evidence "
        "of every student's understanding during instruction, and uses it to adjust teaching "
        "and to give feedback that moves learning forward."
    ),
    "key_method": (
        "Dylan Wiliam's five key strategies of formative assessment, with a planned hinge "
        "question at the pivot point of the lesson."
    ),
    "method_components": [
        "Clarify and share learning intentions and success criteria.",
        "Engineer classroom discussions and tasks that elicit evidence of learning, including "
        "a hinge question every student answers at once (e.g. mini-whiteboards, ABCD cards).",
        "Give feedback that moves learners forward: what to do next, not only a score.",
        "Activate students as learning resources for one another (peer feedback against the "
        "success criteria).",
        "Activate students as owners of their own learning (self-assessment, exit tickets).",
    ],
    "learning_objectives": [
        "Write learning intentions and success criteria students can use.",
        "Design a hinge question whose wrong answers reveal specific misconceptions.",
        "Collect and record evidence from every student, not only volunteers.",
        "Adjust instruction in the lesson or the next one based on that evidence.",
        "Give feedback that tells students what to do next.",
    ],
    "research": (
        "Black and Wiliam's review of some 250 studies (Inside the Black Box, 1998) found that "
        "strengthening formative assessment produced learning gains with effect sizes between "
        "0.4 and 0.7, among the largest of any school intervention, with the largest gains for "
        "lower-achieving students. Wiliam and Thompson later organised that research into five "
        "key strategies that any teacher can apply in any subject. The common thread is a "
        "tight loop: find out where students are during the lesson, not weeks later, and use "
        "what you find to decide what happens next."
    ),
    "focus_area": "assessment-strategies",
    "categories": ["formative-assessment"],
    "audiences": _ALL,
    "level": "foundational",
    "estimated_hours": "12",
    "credit_hours": "1",
    "members_only": False,
    "member_fee": "0",
    "non_member_fee": "0",
    "expiry_months": None,
    "resources": [
        {
            "kind": "reading",
            "title": "Inside the Black Box: Raising Standards Through Classroom Assessment",
            "description": "Paul Black and Dylan Wiliam, Phi Delta Kappan, 1998. Short and "
            "foundational; read it first.",
        },
        {
            "kind": "link",
            "title": "Dylan Wiliam: articles and talks",
            "description": (
                "The five key strategies and hinge questions, explained by their author."
            ),
            "url": "https://www.dylanwiliam.org/",
        },
        {
            "kind": "reading",
            "title": "Embedded Formative Assessment (Dylan Wiliam, 2nd ed., 2018)",
            "description": "One chapter per strategy, with classroom techniques to try.",
        },
    ],
    "requirements": [
        {
            "title": "Lesson plan with success criteria and a hinge question",
            "kind": "file",
            "accepted_file_kinds": ["document", "presentation"],
            "max_file_size_mb": 25,
            "max_files": 2,
            "instructions": (
                "Upload the plan of a lesson you taught: learning intention, success criteria "
                "in student-friendly words, the hinge question with the misconception behind "
                "each wrong answer, and what you planned to do for each response pattern."
            ),
            "criteria": [
                {
                    "title": "Intentions, criteria and hinge question",
                    "levels": [
                        "No success criteria, or a hinge question that cannot reveal "
                        "misconceptions.",
                        "Criteria are present but describe activities; wrong answers are not "
                        "diagnostic.",
                        "Student-friendly criteria and a hinge question whose wrong answers "
                        "each point to a specific misconception, with a planned response.",
                        "As proficient, and the plan shows how students use the criteria to "
                        "assess their own work.",
                    ],
                },
            ],
        },
        {
            "title": "Evidence collected from students",
            "kind": "file",
            "accepted_file_kinds": ["image", "document", "spreadsheet"],
            "max_file_size_mb": 25,
            "max_files": 6,
            "instructions": (
                "Upload what you collected from the whole class (photos of whiteboards or exit "
                "tickets, a tally of responses) and three samples of your feedback to students. "
                "Cover or remove student names."
            ),
            "criteria": [
                {
                    "title": "Evidence from every student, feedback that moves learning",
                    "levels": [
                        "Evidence from a few volunteers only; feedback is a grade or praise.",
                        "Evidence from most students; feedback is general (“check your work”).",
                        "Evidence from every student; feedback tells each student a specific "
                        "next step.",
                        "As proficient, and students acted on the feedback in the same or the "
                        "next lesson.",
                    ],
                },
            ],
        },
        {
            "title": "What you changed and why",
            "kind": "text",
            "word_min": 300,
            "word_max": 700,
            "instructions": (
                "Describe what the evidence told you, the decision you made during or after the "
                "lesson (reteach, regroup, move on), and how students did afterwards."
            ),
            "criteria": [
                {
                    "title": "Instruction adjusted from evidence",
                    "levels": [
                        "Describes the lesson without reference to the evidence.",
                        "Mentions the evidence but the adjustment is not linked to it.",
                        "A clear decision follows from the evidence and its effect is shown.",
                        "As proficient, and the teacher explains how the loop will be used "
                        "routinely.",
                    ],
                },
            ],
        },
    ],
}

ACCESSIBLE_MATERIALS: dict[str, Any] = {
    "slug": "accessible-learning-materials",
    "title": "Creating Accessible Learning Materials for Students with Disabilities",
    "summary": (
        "Make the documents, slides and videos you hand out usable by every student, "
        "including students who use screen readers, captions or magnification."
    ),
    "competency": (
        "The educator designs and remediates digital learning materials so that students with "
        "disabilities can perceive, navigate and use them, following Universal Design for "
        "Learning and WCAG 2.1 level AA practices."
    ),
    "key_method": (
        "Universal Design for Learning (CAST) for choosing multiple means of representation, "
        "plus the core accessible-document practices of WCAG 2.1 AA."
    ),
    "method_components": [
        "Real headings and lists (not bold text) so screen readers can navigate.",
        "Alternative text for every meaningful image; decorative images marked as such.",
        "Colour contrast of at least 4.5:1 for body text; colour never the only cue.",
        "Descriptive link text instead of “click here”.",
        "Accurate captions for videos and transcripts for audio.",
        "A logical reading order in slides and PDFs, checked with the built-in accessibility "
        "checker.",
        "More than one way to access the content (text, audio, visual), per UDL.",
    ],
    "learning_objectives": [
        "Identify barriers in existing materials with an accessibility checker and a screen "
        "reader.",
        "Remediate a document or slide deck to WCAG 2.1 AA practices.",
        "Caption a video accurately.",
        "Offer multiple means of representation for one lesson, following UDL.",
        "Gather feedback from a student or specialist on the remediated material.",
    ],
    "research": (
        "Universal Design for Learning, developed by CAST from research in the learning "
        "sciences, holds that barriers are in the design of materials rather than in students, "
        "and that designing for the margins improves learning for everyone: captions help "
        "English learners and students reading along as much as students who are deaf. The "
        "Web Content Accessibility Guidelines (WCAG 2.1, W3C) define testable success criteria "
        "for digital content, and in 2024 the U.S. Department of Justice adopted WCAG 2.1 AA as "
        "the standard for the web content and apps of state and local governments under ADA "
        "Title II, which includes public school districts. Accessible materials are therefore "
        "both good teaching and a legal duty."
    ),
    "focus_area": "inclusive-education",
    "categories": ["equity-diversity-inclusion", "digital-literacy"],
    "audiences": _ALL,
    "level": "foundational",
    "estimated_hours": "10",
    "credit_hours": None,
    "members_only": False,
    "member_fee": "0",
    "non_member_fee": "0",
    "expiry_months": None,
    "resources": [
        {
            "kind": "link",
            "title": "CAST: Universal Design for Learning Guidelines",
            "description": "The guidelines, with examples for each checkpoint.",
            "url": "https://udlguidelines.cast.org/",
        },
        {
            "kind": "link",
            "title": "WebAIM Contrast Checker",
            "description": "Check text and background colours against WCAG contrast ratios.",
            "url": "https://webaim.org/resources/contrastchecker/",
        },
        {
            "kind": "link",
            "title": "W3C: Web Content Accessibility Guidelines (WCAG) 2.1",
            "description": "The standard itself; read the quick reference for documents.",
            "url": "https://www.w3.org/TR/WCAG21/",
        },
    ],
    "requirements": [
        {
            "title": "Material before and after",
            "kind": "file",
            "accepted_file_kinds": ["document", "presentation"],
            "max_file_size_mb": 50,
            "max_files": 4,
            "instructions": (
                "Upload one learning material you use with students in its original form and "
                "after your remediation (a handout, a slide deck or a PDF worksheet)."
            ),
            "criteria": [
                {
                    "title": "Material meets accessible-document practices",
                    "levels": [
                        "Barriers remain: missing headings or alt text, low contrast.",
                        "Some barriers fixed; headings, alt text or contrast still fail in places.",
                        "Headings, alt text, contrast, link text and reading order all meet "
                        "the practices.",
                        "As proficient, and the material offers an alternative format (audio, "
                        "simplified text) following UDL.",
                    ],
                },
            ],
        },
        {
            "title": "Accessibility check results",
            "kind": "file",
            "accepted_file_kinds": ["image", "document"],
            "max_file_size_mb": 20,
            "max_files": 4,
            "instructions": (
                "Upload screenshots or a report of the built-in accessibility checker (Word, "
                "PowerPoint, Google Docs add-on or Acrobat) before and after your changes."
            ),
            "criteria": [
                {
                    "title": "Uses tools to verify",
                    "levels": [
                        "No check was run.",
                        "A check was run before or after, not both.",
                        "Checks before and after show the issues found and resolved.",
                        "As proficient, and the educator also tested with a screen reader or "
                        "keyboard only.",
                    ],
                },
            ],
        },
        {
            "title": "Student impact",
            "kind": "text",
            "word_min": 250,
            "word_max": 600,
            "instructions": (
                "Describe (without names) how a student with a disability, or the class, used "
                "the remediated material, and what you learned from their feedback or from a "
                "special-education colleague."
            ),
            "criteria": [
                {
                    "title": "Reflects on access for students",
                    "levels": [
                        "No connection to students.",
                        "General statements about accessibility.",
                        "Specific account of how students used the material and what changed.",
                        "As proficient, and a plan to apply the practices to other materials.",
                    ],
                },
            ],
        },
    ],
}

GOOGLE_CLASSROOM: dict[str, Any] = {
    "slug": "google-classroom",
    "title": "Google Classroom",
    "summary": (
        "Run a class in Google Classroom that students can find their way around: organised "
        "Classwork, assignments with rubrics, and feedback that reaches students quickly."
    ),
    "competency": (
        "The educator sets up and runs a Google Classroom course that is consistently "
        "organised, uses rubrics and the comment bank to give timely feedback, and keeps "
        "students and guardians informed."
    ),
    "key_method": (
        "A consistent course structure in Google Classroom: topics by unit or week, one "
        "predictable pattern for every assignment, and a feedback loop with rubrics and the "
        "comment bank."
    ),
    "method_components": [
        "Classwork organised by topics (unit or week), with the newest on top.",
        "Assignments with clear instructions, due dates, attached templates (“make a copy for "
        "each student”) and a rubric.",
        "Quiz assignments and questions for quick checks for understanding.",
        "Feedback with private comments and a comment bank of reusable comments.",
        "Returning work and grades promptly; using the Grades tab to spot missing work.",
        "Guardian email summaries and class announcements in the Stream.",
    ],
    "learning_objectives": [
        "Organise a course's Classwork so students can find any assignment in two clicks.",
        "Create an assignment with a rubric and a template copied for each student.",
        "Give feedback with the comment bank and return graded work.",
        "Use the Grades tab to follow up on missing work.",
        "Communicate with guardians through summaries.",
    ],
    "research": (
        "Students lose time and motivation when course materials are hard to find; consistent "
        "navigation and predictable assignment patterns reduce the extraneous load of simply "
        "finding the work, which matters most for younger students and students with executive "
        "functioning challenges. Timely, specific feedback is among the strongest influences on "
        "achievement in Hattie's syntheses, and a learning-management system makes it faster to "
        "give and easier for students to find. Google's own Certified Educator program (see the "
        "Teacher Center) covers the same skills this credential asks you to demonstrate."
    ),
    "focus_area": "digital-teaching-tools",
    "categories": ["technology-integration", "virtual-teaching"],
    "audiences": _ALL,
    "level": "foundational",
    "estimated_hours": "6",
    "credit_hours": None,
    "members_only": False,
    "member_fee": "0",
    "non_member_fee": "0",
    "expiry_months": None,
    "resources": [
        {
            "kind": "link",
            "title": "Google Classroom Help Center",
            "description": "Step-by-step articles for every feature used in this credential.",
            "url": "https://support.google.com/edu/classroom/",
        },
        {
            "kind": "link",
            "title": "Google for Education: training and certifications",
            "description": "Free self-paced courses, including the Google Classroom units.",
            "url": "https://edu.google.com/",
        },
        {
            "kind": "video",
            "title": "Google for Education on YouTube",
            "description": "Short walkthroughs of Classwork topics, rubrics and the comment bank.",
            "url": "https://www.youtube.com/@GoogleforEducation",
        },
    ],
    "requirements": [
        {
            "title": "Screenshots of your course",
            "kind": "file",
            "accepted_file_kinds": ["image"],
            "max_file_size_mb": 10,
            "max_files": 6,
            "instructions": (
                "Upload screenshots of your Classwork page (topics visible) and of one "
                "assignment as students see it, including its rubric. Hide student names."
            ),
            "criteria": [
                {
                    "title": "Course is organised and predictable",
                    "levels": [
                        "No topics; assignments are in one long list.",
                        "Topics exist but assignments follow no consistent pattern.",
                        "Topics by unit or week and a consistent assignment pattern with "
                        "instructions, due date and rubric.",
                        "As proficient, and the course includes a “start here” topic that "
                        "explains the structure to students and guardians.",
                    ],
                },
            ],
        },
        {
            "title": "Feedback samples",
            "kind": "file",
            "accepted_file_kinds": ["image", "document"],
            "max_file_size_mb": 10,
            "max_files": 4,
            "instructions": (
                "Upload three examples of feedback you gave in Classroom (rubric scores and "
                "private comments), with names hidden."
            ),
            "criteria": [
                {
                    "title": "Timely, specific feedback",
                    "levels": [
                        "Scores only, or no feedback.",
                        "Comments are generic and not tied to the rubric.",
                        "Comments tie to the rubric and tell the student what to do next.",
                        "As proficient, and students' replies or resubmissions show they used it.",
                    ],
                },
            ],
        },
        {
            "title": "Reflection",
            "kind": "text",
            "word_min": 200,
            "word_max": 500,
            "instructions": (
                "How has organising your course this way changed how students find and submit "
                "work? What will you change next?"
            ),
            "criteria": [
                {
                    "title": "Reflects on student experience",
                    "levels": [
                        "Lists features used only.",
                        "Describes changes for the teacher, not for students.",
                        "Describes a specific change in students' work habits with evidence "
                        "(e.g. fewer missing assignments).",
                        "As proficient, with a concrete next improvement.",
                    ],
                },
            ],
        },
    ],
}

SCREENCASTIFY: dict[str, Any] = {
    "slug": "screencastify",
    "title": "Screencastify",
    "summary": (
        "Record short, clear screencasts for your students with Screencastify, then show what "
        "you can do: a screencast on how you will use it in class, and a 20-question quiz."
    ),
    "competency": (
        "The educator records, edits and shares clear, short screencasts with Screencastify "
        "and plans purposeful uses of it with students, from flipped explanations to "
        "student-recorded reasoning and spoken feedback."
    ),
    "key_method": (
        "Short, purposeful screencasts: one idea per video, under about six minutes, with "
        "on-screen signalling, captions, and a plan for what students do with the video."
    ),
    "method_components": [
        "Choose the recording mode (browser tab, desktop or webcam only) for the task.",
        "Plan one idea per video and keep it short.",
        "Use the embedded webcam and annotation tools to keep attention on what matters.",
        "Edit: trim, cut and blur anything that should not be seen.",
        "Share to Google Classroom or by link, with captions or a transcript.",
        "Have students record too, e.g. through Screencastify Submit.",
    ],
    "learning_objectives": [
        "Record in each of Screencastify's modes and choose the right one.",
        "Edit a recording and protect student privacy.",
        "Share recordings with students in an accessible way.",
        "Plan at least two uses of screencasting with students.",
    ],
    "research": (
        "In a study of 6.9 million video-watching sessions on edX, Guo, Kim and Rubin (2014) "
        "found that engagement drops sharply after about six minutes and that informal, "
        "instructor-voiced videos held attention better than polished studio recordings, which "
        "is exactly what a teacher's screencast is. Mayer's principles of multimedia learning "
        "explain why short segments (the segmenting principle) and on-screen cues such as a "
        "highlighted cursor (the signaling principle) help students learn from them. As a "
        "teacher wrote of this micro-credential: the course is free, takes about an hour, and "
        "ends with using the extension to explain how you will use it with your students and a "
        "20-question quiz."
    ),
    "focus_area": "digital-teaching-tools",
    "categories": ["technology-integration", "virtual-teaching", "digital-literacy"],
    "audiences": ["teachers", "instructional-coaches"],
    "level": "foundational",
    "estimated_hours": "1",
    "credit_hours": None,
    "members_only": False,
    "member_fee": "0",
    "non_member_fee": "0",
    "expiry_months": None,
    "resources": [
        {
            "kind": "link",
            "title": "Screencastify",
            "description": "Install the Chrome extension and find the help articles.",
            "url": "https://www.screencastify.com/",
        },
        {
            "kind": "video",
            "title": "Screencastify on YouTube",
            "description": "Short tutorials on recording modes, the editor and sharing.",
            "url": "https://www.youtube.com/@Screencastify",
        },
        {
            "kind": "reading",
            "title": "How video production affects student engagement (Guo, Kim and Rubin, 2014)",
            "description": "Proceedings of the first ACM Conference on Learning at Scale. Why "
            "short, informal videos work.",
        },
    ],
    "requirements": [
        {
            "title": "Your screencast: how you will use Screencastify with students",
            "kind": "file",
            "accepted_file_kinds": ["video"],
            "max_file_size_mb": 2048,
            "max_files": 1,
            "instructions": (
                "Use Screencastify to record a screencast (3 to 6 minutes, embedded webcam on) in "
                "which you explain how you will use it with your students: show at least one "
                "thing you recorded or plan to record, use the annotation tools, and describe "
                "what students will do with the video. Export it as MP4 and upload it here."
            ),
            "criteria": [
                {
                    "title": "Purposeful plan for students",
                    "levels": [
                        "No plan for students, or the video only demonstrates buttons.",
                        "A use is named but what students will do with the video is unclear.",
                        "At least one concrete classroom use, with what students do before, "
                        "during or after watching.",
                        "As proficient, and includes students recording their own thinking or "
                        "spoken feedback.",
                    ],
                },
                {
                    "title": "Effective, accessible screencast",
                    "levels": [
                        "Hard to follow: too long, inaudible, or shows private information.",
                        "Understandable, but over six minutes or without any signalling.",
                        "Clear audio, under six minutes, annotation used to direct attention, "
                        "nothing private on screen.",
                        "As proficient, and captions or a transcript are provided.",
                    ],
                },
            ],
        },
        {
            "title": "Screencastify knowledge quiz",
            "kind": "quiz",
            "pass_mark_percent": 80,
            "instructions": (
                "Twenty questions on Screencastify's features and on using screencasts well. "
                "You need 16 correct answers (80%) to pass; the quiz is scored automatically."
            ),
            "questions": SCREENCASTIFY_QUIZ,
        },
    ],
}

_FLIPPED_RESOURCES: list[dict[str, Any]] = [
    {
        "kind": "link",
        "title": "Flipped Learning Global Initiative (FLGI)",
        "description": (
            "The Flipped Learning 3.0 framework and the international faculty's guidance on "
            "group-space strategies."
        ),
        "url": "https://flglobal.org/",
    },
    {
        "kind": "reading",
        "title": "Flip Your Classroom: Reach Every Student in Every Class Every Day",
        "description": "Jonathan Bergmann and Aaron Sams, ISTE/ASCD, 2012.",
    },
]

FLIPPED_LEVEL_1: dict[str, Any] = {
    "slug": "flipped-learning-level-1",
    "title": "Flipped Learning Level 1",
    "summary": (
        "Flip one unit: short videos students watch before class, and class time spent on "
        "active, supported practice. Eligible for college credit."
    ),
    "competency": (
        "The teacher designs and teaches a flipped lesson sequence: direct instruction moves "
        "to short pre-class videos with an accountability task (the individual space), and "
        "class time becomes active learning with the teacher supporting students (the group "
        "space)."
    ),
    "key_method": (
        "Flipped Learning and its four pillars (Flipped Learning Network, 2014): Flexible "
        "environment, Learning culture, Intentional content, Professional educator; applied "
        "through the Flipped Learning 3.0 framework."
    ),
    "method_components": [
        "Decide what moves to the individual space (explaining) and what stays in the group "
        "space (applying, analysing, creating).",
        "Short pre-class videos, one idea each, with an embedded task or question.",
        "An accountability check at the start of class (entry question, quick quiz).",
        "Group-space activities that use the freed time for practice, collaboration and feedback.",
        "A plan for students who did not watch (a viewing station, not a penalty).",
        "Communicating the model to students and families.",
    ],
    "learning_objectives": [
        "Explain the four pillars of Flipped Learning.",
        "Create short, effective pre-class videos with an accountability task.",
        "Design group-space activities that use the time for active learning.",
        "Plan for students without access at home and for students who did not prepare.",
    ],
    "research": (
        "A meta-analysis of 114 studies in secondary and post-secondary education (van Alten, "
        "Phielix, Janssen and Kester, 2019, Educational Research Review) found that flipped "
        "classrooms produced a small to moderate positive effect on learning outcomes compared "
        "with traditional classes, with larger effects when face-to-face time was kept (not "
        "reduced) and when short quizzes were added. That is why this credential asks for an "
        "accountability task and a carefully designed group space, not only videos. The Flipped "
        "Learning Global Initiative's training is accredited so that educators who complete "
        "Level 1 and Level 2 are eligible for college credit; Riverside's credential follows "
        "the same model and awards 1 semester credit hour through the district's university "
        "partnership."
    ),
    "focus_area": "instructional-design",
    "categories": ["blended-and-flipped-learning", "virtual-teaching"],
    "audiences": ["teachers", "instructional-coaches"],
    "level": "level_1",
    "estimated_hours": "30",
    "credit_hours": "1",
    "members_only": False,
    "member_fee": "0",
    "non_member_fee": "49.00",
    "expiry_months": None,
    "resources": [
        *_FLIPPED_RESOURCES,
        {
            "kind": "link",
            "title": "Flipped Learning Network: definition and the four pillars",
            "description": "The one-page definition that the field uses.",
            "url": "https://flippedlearning.org/definition-of-flipped-learning/",
        },
    ],
    "requirements": [
        {
            "title": "Pre-class video",
            "kind": "file",
            "accepted_file_kinds": ["video"],
            "max_file_size_mb": 2048,
            "max_files": 2,
            "instructions": (
                "Upload one or two pre-class videos you made for the unit (each under eight "
                "minutes), with the question or task students complete while watching."
            ),
            "criteria": [
                {
                    "title": "Intentional pre-class content",
                    "levels": [
                        "A long lecture recording without a task.",
                        "Shorter video, but several ideas crammed in, or no task.",
                        "One idea per video, under eight minutes, with a task that checks "
                        "understanding.",
                        "As proficient, and the video is designed around a known misconception.",
                    ],
                },
            ],
        },
        {
            "title": "Group-space lesson plan",
            "kind": "file",
            "accepted_file_kinds": ["document", "presentation"],
            "max_file_size_mb": 25,
            "max_files": 2,
            "instructions": (
                "Upload the plan for the class that follows the video: the entry check, the "
                "active-learning activities, how you will support and extend, and your plan for "
                "students who did not watch."
            ),
            "criteria": [
                {
                    "title": "Group space used for active learning",
                    "levels": [
                        "Class time repeats the video.",
                        "Some practice, but the teacher still lectures most of the time.",
                        "An entry check, then most of the time spent on practice with the "
                        "teacher circulating, plus a plan for non-watchers.",
                        "As proficient, and activities are differentiated from the entry "
                        "check results.",
                    ],
                },
            ],
        },
        {
            "title": "Reflection on the flipped unit",
            "kind": "text",
            "word_min": 400,
            "word_max": 800,
            "instructions": (
                "What happened when you flipped the unit? Use the four pillars to describe what "
                "worked, what students said, and what you will change."
            ),
            "criteria": [
                {
                    "title": "Reflects through the four pillars",
                    "levels": [
                        "Narrative without reference to the model.",
                        "Mentions the pillars without evidence.",
                        "Uses the pillars to analyse evidence from the unit (student work, "
                        "feedback).",
                        "As proficient, with a plan for the next flipped unit.",
                    ],
                },
            ],
        },
    ],
}

FLIPPED_LEVEL_2: dict[str, Any] = {
    "slug": "flipped-learning-level-2",
    "title": "Flipped Learning Level 2",
    "summary": (
        "After Level 1: use the group space for mastery, project-based learning or Socratic "
        "seminars, and show the impact on students. Eligible for college credit."
    ),
    "competency": (
        "The teacher sustains Flipped Learning across a full unit, uses data from the "
        "individual space to differentiate the group space, and applies an advanced group-space "
        "strategy (mastery learning, project-based learning, gamification or Socratic seminar) "
        "with measurable impact on student learning."
    ),
    "key_method": (
        "Flipped Learning 3.0 group-space strategies, chosen from data gathered in the "
        "individual space."
    ),
    "method_components": [
        "Plan a full flipped unit with its individual-space and group-space sequence.",
        "Collect data from the individual space (embedded questions, entry checks).",
        "Differentiate group-space work from that data (regrouping, mastery checkpoints).",
        "Apply one advanced strategy: mastery learning, project-based learning, gamification, "
        "inquiry or Socratic seminar.",
        "Measure impact: compare outcomes with an earlier unit or class.",
        "Share your practice with colleagues.",
    ],
    "learning_objectives": [
        "Design a complete flipped unit.",
        "Use individual-space data to differentiate the group space.",
        "Implement an advanced group-space strategy.",
        "Measure and explain the impact on student learning.",
    ],
    "research": (
        "The same meta-analysis that supports Level 1 (van Alten et al., 2019) found that the "
        "benefit of flipping depends on what happens in class; pairing flipped instruction with "
        "mastery learning and frequent formative checks draws on decades of research showing "
        "strong effects for mastery approaches (Kulik, Kulik and Bangert-Drowns, 1990). The "
        "FLGI framework was written by an international cohort of experienced practitioners "
        "of project-based learning, gamification, mastery, inquiry and Socratic seminars; Level "
        "2 asks you to master one of them. Level 2 awards 2 semester credit hours through the "
        "district's university partnership."
    ),
    "focus_area": "instructional-design",
    "categories": ["blended-and-flipped-learning", "formative-assessment"],
    "audiences": ["teachers", "instructional-coaches"],
    "level": "level_2",
    "estimated_hours": "45",
    "credit_hours": "2",
    "members_only": False,
    "member_fee": "0",
    "non_member_fee": "79.00",
    "expiry_months": None,
    "resources": _FLIPPED_RESOURCES,
    "requirements": [
        {
            "title": "Flipped unit plan",
            "kind": "file",
            "accepted_file_kinds": ["document", "presentation", "spreadsheet"],
            "max_file_size_mb": 50,
            "max_files": 3,
            "instructions": (
                "Upload the plan of a complete flipped unit (at least two weeks): videos, "
                "individual-space tasks, group-space activities, checkpoints and the advanced "
                "strategy you chose."
            ),
            "criteria": [
                {
                    "title": "Unit is coherent and data-driven",
                    "levels": [
                        "A list of videos without a group-space plan.",
                        "Both spaces are planned but not linked by data.",
                        "Group-space activities are differentiated from individual-space data "
                        "at planned checkpoints.",
                        "As proficient, and students can move at their own pace through "
                        "mastery checkpoints.",
                    ],
                },
            ],
        },
        {
            "title": "Video of the group space",
            "kind": "file",
            "accepted_file_kinds": ["video"],
            "max_file_size_mb": 2048,
            "max_files": 2,
            "instructions": (
                "Upload 10 to 20 minutes of video of a group-space lesson using your advanced "
                "strategy. Follow the district's consent rules for filming students."
            ),
            "criteria": [
                {
                    "title": "Advanced strategy in action",
                    "levels": [
                        "The strategy is not visible.",
                        "The strategy is attempted but most students are passive.",
                        "Students are actively engaged in the strategy; the teacher supports "
                        "and extends.",
                        "As proficient, and students lead parts of the work.",
                    ],
                },
            ],
        },
        {
            "title": "Link to your students' pre-class playlist",
            "kind": "link",
            "required": False,
            "instructions": (
                "Optional: a link to the playlist or course page where students find the unit's "
                "videos."
            ),
        },
        {
            "title": "Impact analysis",
            "kind": "text",
            "word_min": 600,
            "word_max": 1200,
            "instructions": (
                "Compare student outcomes in this unit with an earlier unit or class (scores, "
                "completion, student survey). Explain what caused the difference and what you "
                "will share with colleagues."
            ),
            "criteria": [
                {
                    "title": "Impact is measured and explained",
                    "levels": [
                        "No data.",
                        "Data shown without comparison or explanation.",
                        "A fair comparison with an explanation tied to the strategy.",
                        "As proficient, and a plan to share the practice with colleagues.",
                    ],
                },
            ],
        },
    ],
}

RIVERSIDE: dict[str, Any] = {
    "slug": "riverside-usd",
    # District staff are members by their verified e-mail address (a real district lists its
    # own, e.g. riverside.k12.ca.us): "free for district staff" holds without a roster.
    "member_email_domains": ["riverside.demo"],
    "organization": {
        "name": "Riverside Unified School District",
        "short_name": "Riverside USD",
        "tagline": "Professional learning that shows up in the classroom",
        "description": (
            "Riverside USD's professional learning micro-credentials replace seat-time "
            "workshops with short, competency-based recognition: choose a skill that matters "
            "for your students, learn it on your own schedule, practise it in your classroom, "
            "and show the evidence. Trained district reviewers score every submission against "
            "a published rubric. Micro-credentials are free for district staff, and open to "
            "educators from other districts (some for a small fee)."
        ),
        "brand_colour": "#2e7d32",
        "website": "https://riverside-usd.example.org",
        "contact_name": "Office of Professional Learning",
        "contact_email": "proflearning@riverside-usd.example.org",
        "issuer_name": "Riverside Unified School District",
        "issuer_url": "https://riverside-usd.example.org",
        "issuer_email": "proflearning@riverside-usd.example.org",
        "issuer_description": (
            "Riverside USD's Office of Professional Learning issues micro-credentials for "
            "classroom skills demonstrated with evidence."
        ),
    },
    "program": {
        "slug": "professional-learning",
        "name": "Professional Learning Micro-credentials",
        "description": "Classroom-skill micro-credentials for teachers and instructional coaches.",
        "contact_name": "Office of Professional Learning",
        "contact_email": "proflearning@riverside-usd.example.org",
    },
    "focus_areas": [
        {
            "slug": "digital-teaching-tools",
            "name": "Digital Teaching Tools",
            "description": "Learning platforms and classroom technology, used with purpose.",
        },
        {
            "slug": "inclusive-education",
            "name": "Inclusive Education",
            "description": "Supporting students with disabilities, multilingual and gifted "
            "learners.",
        },
        {
            "slug": "assessment-strategies",
            "name": "Assessment Strategies",
            "description": "Formative checks and summative assessments that inform teaching.",
        },
        {
            "slug": "instructional-design",
            "name": "Instructional Design",
            "description": "Designing learning for creativity, collaboration and understanding.",
        },
    ],
    "categories": [
        {"slug": "formative-assessment", "name": "Formative Assessment"},
        {"slug": "technology-integration", "name": "Technology Integration"},
        {"slug": "digital-literacy", "name": "Digital Literacy"},
        {"slug": "virtual-teaching", "name": "Virtual Teaching"},
        {"slug": "equity-diversity-inclusion", "name": "Equity, Diversity & Inclusion"},
        {"slug": "blended-and-flipped-learning", "name": "Blended & Flipped Learning"},
    ],
    "audiences": [
        {"slug": "teachers", "name": "Teachers"},
        {"slug": "instructional-coaches", "name": "Instructional coaches"},
        {"slug": "school-leaders", "name": "School leaders"},
    ],
    "credentials": [
        FORMATIVE_ASSESSMENT,
        ACCESSIBLE_MATERIALS,
        GOOGLE_CLASSROOM,
        SCREENCASTIFY,
        FLIPPED_LEVEL_1,
        FLIPPED_LEVEL_2,
    ],
    "pathways": [
        {
            "slug": "digital-teaching-tools",
            "name": "Digital Teaching Tools",
            "certificate_name": "Digital Teaching Foundations Certificate",
            "description": (
                "Earn Google Classroom, Screencastify and Flipped Learning Level 1 to receive "
                "the Digital Teaching Foundations Certificate: organise your course online, "
                "record your own explanations, and use the time you free up for active "
                "learning."
            ),
            "credentials": ["google-classroom", "screencastify", "flipped-learning-level-1"],
        },
    ],
}
