"""GAEL, the Georgia Association of Educational Leaders: the professional association whose
micro-credentialing program (the “Professional Investment Network”) is the model for Tessera.

Every rubric criterion lists its descriptors for the demo scale
0 Not yet evident / 1 Developing / 2 Proficient / 3 Exemplary; 2 passes.
"""

from __future__ import annotations

from typing import Any

_EDUCATORS = ["teachers", "school-administrators", "central-office-leaders"]
_LEADERS = ["school-administrators", "central-office-leaders"]

CRUCIAL_CONVERSATIONS: dict[str, Any] = {
    "slug": "crucial-conversations-training",
    "title": "Crucial Conversations Training",
    "summary": (
        "Hold the high-stakes conversations leaders tend to avoid, with a colleague, a parent or "
        "a supervisor, so that they end in shared understanding and a clear commitment to act."
    ),
    "competency": (
        "The educational leader prepares for and conducts a crucial conversation (one where the "
        "stakes are high, opinions differ and emotions run strong) using dialogue skills that "
        "keep it safe for both sides, and closes it with a clear, followed-up agreement."
    ),
    "key_method": (
        "The dialogue skills of Crucial Conversations (Patterson, Grenny, McMillan and Switzler): "
        "start from what you really want, notice when safety is at risk, restore it, separate "
        "facts from the stories you tell about them, share your view tentatively, draw out the "
        "other person's view, and end with a decision on who does what by when."
    ),
    "method_components": [
        "Start with Heart: name what you really want for yourself, for the other person and for "
        "the relationship, and refuse the “sucker's choice” between honesty and kindness.",
        "Learn to Look: notice the moment a conversation turns crucial and the signs of silence "
        "or violence, in others and in yourself.",
        "Make It Safe: re-establish mutual purpose and mutual respect; apologise where it is due "
        "and use contrasting to fix misunderstandings.",
        "Master My Stories: retrace your path to action and separate the observable facts from "
        "the story you have told yourself about them.",
        "STATE My Path: Share your facts, Tell your story, Ask for others' paths, Talk "
        "tentatively, Encourage testing.",
        "Explore Others' Paths: Ask, Mirror, Paraphrase and Prime to understand the other "
        "person's facts and feelings.",
        "Move to Action: agree how the decision will be made, then who does what by when, and "
        "how you will follow up.",
    ],
    "learning_objectives": [
        "Identify a crucial conversation in your own leadership practice and what you really "
        "want from it.",
        "Plan the conversation: the facts, the tentative story, the mutual purpose and the "
        "questions you will ask.",
        "Use at least three dialogue skills to keep the conversation safe when it becomes tense.",
        "Close with a written commitment: who does what by when, and how you will follow up.",
        "Reflect on what you did, what happened, and what you would do differently.",
    ],
    "research": (
        "Leaders spend much of their influence in conversations, and the ones that matter most "
        "are the ones most often avoided or mishandled: a struggling teacher, an angry parent, a "
        "colleague who breaks an agreement. The Crucial Conversations model grew out of "
        "observation of thousands of employees and managers to find what the most influential "
        "people did differently when stakes were high; its core finding is that they make it "
        "safe to add information to a “pool of shared meaning” instead of choosing between "
        "silence and force. The skills are learnable and observable, which is why this "
        "credential asks for a plan, a rehearsal and a reflection rather than a test. Related "
        "work from the Harvard Negotiation Project (Stone, Patton and Heen, Difficult "
        "Conversations) reaches the same conclusion: separating what happened from feelings and "
        "identity, and getting curious about the other person's story, is what turns a "
        "confrontation into a problem solved together."
    ),
    "focus_area": "preparation-of-self",
    "categories": ["communication", "leadership-and-coaching"],
    "audiences": _EDUCATORS,
    "level": "foundational",
    "estimated_hours": "15",
    "credit_hours": "1.5",
    "members_only": True,
    "member_fee": "0",
    "non_member_fee": None,
    "expiry_months": None,
    "resources": [
        {
            "kind": "reading",
            "title": "Crucial Conversations: Tools for Talking When Stakes Are High (3rd ed.)",
            "description": (
                "Patterson, Grenny, McMillan, Switzler and Gregory, McGraw-Hill, 2021. Read "
                "chapters 1 to 10 before you plan your conversation; each maps to one component."
            ),
        },
        {
            "kind": "link",
            "title": "Crucial Learning: Crucial Conversations for Dialogue",
            "description": (
                "The publisher of the model: free articles, the weekly Q&A newsletter and short "
                "videos that show each skill in a workplace setting."
            ),
            "url": "https://cruciallearning.com/",
        },
        {
            "kind": "reading",
            "title": "Difficult Conversations: How to Discuss What Matters Most",
            "description": (
                "Stone, Patton and Heen (Harvard Negotiation Project). Optional companion: the "
                "“three conversations” (what happened, feelings, identity) are a useful lens "
                "for your reflection."
            ),
        },
    ],
    "requirements": [
        {
            "title": "Conversation plan",
            "kind": "file",
            "accepted_file_kinds": ["document"],
            "max_file_size_mb": 20,
            "max_files": 1,
            "instructions": (
                "Choose a real crucial conversation you need to have in your role (remove names "
                "and anything that identifies students or staff). Upload a one- to two-page plan "
                "that states: what you really want (for you, them, the relationship); the facts "
                "as observable behaviour; your tentative story; the mutual purpose you will open "
                "with; two questions you will use to explore their path; and the commitment you "
                "hope to reach."
            ),
            "criteria": [
                {
                    "title": "Purpose and facts are clear",
                    "description": "The plan separates what the leader wants and the facts from "
                    "interpretation.",
                    "levels": [
                        "The plan does not say what the leader wants, or mixes judgements "
                        "(“she doesn't care”) into the facts.",
                        "Goals are stated for the leader only; the facts are partly "
                        "interpretations.",
                        "Goals for self, the other person and the relationship are stated; the "
                        "facts are observable behaviour, separated from the story.",
                        "As proficient, and the plan anticipates where safety may break down and "
                        "prepares a contrasting statement or apology for that moment.",
                    ],
                },
                {
                    "title": "Dialogue is planned, not a script",
                    "levels": [
                        "The plan is a speech to deliver; nothing invites the other person's view.",
                        "One open question is planned, but the mutual purpose is missing or "
                        "one-sided.",
                        "A mutual purpose opens the conversation and at least two open "
                        "questions draw out the other person's path.",
                        "The plan also prepares the leader's tentative language (STATE) and a "
                        "concrete way to move to action and follow up.",
                    ],
                },
            ],
        },
        {
            "title": "Rehearsal recording",
            "kind": "file",
            "accepted_file_kinds": ["video", "audio"],
            "max_file_size_mb": 2048,
            "max_files": 1,
            "instructions": (
                "Rehearse the conversation with a trusted colleague playing the other person and "
                "record it (video or audio, 5 to 15 minutes). Ask your colleague to push back at "
                "least once, so we can hear how you restore safety. Do not record the real "
                "conversation."
            ),
            "criteria": [
                {
                    "title": "Keeps the conversation safe",
                    "levels": [
                        "The leader argues, interrupts or withdraws when the colleague pushes "
                        "back.",
                        "The leader notices the tension but restores safety only partly, e.g. "
                        "by softening the message until it disappears.",
                        "The leader steps out of the content to restore mutual purpose or "
                        "respect, then returns to the issue.",
                        "Safety is restored smoothly and the leader explores the other person's "
                        "path (asking, mirroring, paraphrasing) before returning to their own.",
                    ],
                },
                {
                    "title": "Ends in a clear commitment",
                    "levels": [
                        "The rehearsal ends without any agreement.",
                        "An agreement is reached but it is vague (no owner or no date).",
                        "The rehearsal ends with who does what by when.",
                        "As proficient, plus an agreed way and date to follow up.",
                    ],
                },
            ],
        },
        {
            "title": "Reflection after the real conversation",
            "kind": "text",
            "word_min": 400,
            "word_max": 900,
            "instructions": (
                "After you have held the real conversation, describe what happened: which skills "
                "you used and when, how the other person responded, what was agreed, and what "
                "happened at follow-up. End with what you will do differently next time."
            ),
            "criteria": [
                {
                    "title": "Honest, specific reflection",
                    "levels": [
                        "The reflection retells events without naming any skill or outcome.",
                        "Skills are named but not connected to moments in the conversation.",
                        "Specific moments are linked to specific skills and to the outcome, "
                        "including what did not go well.",
                        "As proficient, plus a concrete change to the leader's practice that is "
                        "already being tried.",
                    ],
                },
            ],
        },
    ],
}

LEADERSHIP_COACHING: dict[str, Any] = {
    "slug": "leadership-coaching",
    "title": "Leadership Coaching",
    "summary": (
        "Coach a teacher or an aspiring leader through a full coaching cycle: a goal that "
        "matters to their students, evidence gathered together, and a change you can both see."
    ),
    "competency": (
        "The leader conducts a complete coaching cycle with a colleague, using coaching "
        "conversations (not directives) to set a measurable goal, gather evidence of progress, "
        "and help the colleague own the changes in their practice."
    ),
    "key_method": (
        "A structured coaching cycle (after Jim Knight's Impact Cycle: identify, learn, improve) "
        "led with the GROW conversation model from John Whitmore's Coaching for Performance: "
        "Goal, Reality, Options, Will."
    ),
    "method_components": [
        "Coaching agreement: confidentiality, roles, the time you will meet, and that the coachee "
        "chooses the goal.",
        "Get a clear picture of current reality with data: a video of a lesson, student work or "
        "an observation, reviewed together.",
        "Goal: a PEERS goal (powerful, easy, emotionally compelling, reachable, student-focused) "
        "the coachee cares about.",
        "Options: generate several strategies; the coach offers a teaching strategy only with "
        "permission and explains it precisely.",
        "Will: agree the first step, when it will be tried and what evidence will show progress.",
        "Listen and ask: active listening, open and non-leading questions, paraphrasing.",
        "Monitor and adjust: revisit the evidence each meeting until the goal is met or revised.",
    ],
    "learning_objectives": [
        "Establish a coaching partnership built on trust and choice.",
        "Lead coaching conversations with the GROW structure.",
        "Help a colleague set a measurable, student-focused goal.",
        "Gather and interpret evidence of progress with the coachee.",
        "Distinguish coaching from evaluating and from advising, and choose deliberately.",
    ],
    "research": (
        "Coaching is one of the few forms of professional learning with strong causal evidence. "
        "A meta-analysis of 60 studies with causal designs (Kraft, Blazar and Hogan, 2018, "
        "Review of Educational Research) found pooled effects of 0.49 standard deviations on "
        "instructional practice and 0.18 on student achievement, larger than most other "
        "professional development. Earlier work by Joyce and Showers showed that workshops "
        "alone rarely change classroom practice, while follow-up coaching in the classroom "
        "sharply increases how many teachers actually use what they learned. What makes "
        "coaching work is consistent across these studies: it is individualised, sustained over "
        "weeks rather than a single visit, focused on specific practices, and built on a "
        "relationship in which the teacher keeps ownership of the goal."
    ),
    "focus_area": "development-of-others",
    "categories": ["leadership-and-coaching", "communication"],
    "audiences": _EDUCATORS,
    "level": "level_1",
    "estimated_hours": "20",
    "credit_hours": "2",
    "members_only": True,
    "member_fee": "0",
    "non_member_fee": None,
    "expiry_months": 36,
    "reviewers_required": 2,
    "resources": [
        {
            "kind": "link",
            "title": "Instructional Coaching Group (Jim Knight)",
            "description": (
                "Articles, podcasts and free tools on the Impact Cycle, PEERS goals and "
                "partnership principles."
            ),
            "url": "https://www.instructionalcoaching.com/",
        },
        {
            "kind": "reading",
            "title": "The Effect of Teacher Coaching on Instruction and Achievement",
            "description": (
                "Kraft, Blazar and Hogan (2018), Review of Educational Research 88(4). The "
                "meta-analysis behind this credential's research section."
            ),
            "url": "https://doi.org/10.3102/0034654318759268",
        },
        {
            "kind": "reading",
            "title": "Coaching for Performance (John Whitmore)",
            "description": "The origin of the GROW model; read the chapters on each GROW stage.",
        },
    ],
    "requirements": [
        {
            "title": "Coaching conversation video",
            "kind": "file",
            "accepted_file_kinds": ["video"],
            "max_file_size_mb": 2048,
            "max_files": 1,
            "instructions": (
                "Record one full coaching conversation (15 to 30 minutes) from the middle of the "
                "cycle, with the written consent of your coachee. Both voices must be audible. "
                "Two reviewers will watch it."
            ),
            "criteria": [
                {
                    "title": "Coaching, not telling",
                    "levels": [
                        "The leader does most of the talking and directs what to do.",
                        "Open questions are asked, but the leader answers them or steers to a "
                        "preferred solution.",
                        "The coachee does most of the thinking: open, non-leading questions, "
                        "paraphrasing, and advice offered only with permission.",
                        "As proficient, and the leader moves deliberately between coaching and "
                        "teaching a strategy, saying which they are doing and why.",
                    ],
                },
                {
                    "title": "Uses the GROW structure",
                    "levels": [
                        "No recognisable structure; the conversation ends without a next step.",
                        "Some GROW stages appear, but reality is not grounded in evidence or "
                        "the next step is vague.",
                        "Goal, reality (with evidence), options and a specific committed next "
                        "step are all present.",
                        "The stages flow naturally and the coachee leaves with a next step and "
                        "a way to know whether it worked.",
                    ],
                },
            ],
        },
        {
            "title": "Coaching log for the full cycle",
            "kind": "file",
            "accepted_file_kinds": ["document", "spreadsheet"],
            "max_file_size_mb": 20,
            "max_files": 2,
            "instructions": (
                "Upload your log of at least three coaching meetings over four or more weeks: "
                "the goal, the evidence reviewed at each meeting, the strategy tried and the "
                "agreed next step. Remove the coachee's name and any student names."
            ),
            "criteria": [
                {
                    "title": "Goal and evidence",
                    "levels": [
                        "No goal, or a goal about the teacher's activity with no evidence.",
                        "A goal is set but progress is described from impressions only.",
                        "A measurable, student-focused goal with evidence reviewed at each "
                        "meeting.",
                        "As proficient, and the evidence shows the goal was met or deliberately "
                        "revised with the coachee.",
                    ],
                },
            ],
        },
        {
            "title": "Reflection on your coaching",
            "kind": "text",
            "word_min": 500,
            "word_max": 1000,
            "instructions": (
                "What did you learn about yourself as a coach? Describe a moment where you chose "
                "to ask rather than tell (or should have), what your coachee gained, and what "
                "you will change in your next cycle."
            ),
            "criteria": [
                {
                    "title": "Insight into own coaching practice",
                    "levels": [
                        "The reflection summarises the cycle without examining the leader's "
                        "own moves.",
                        "Names strengths and weaknesses in general terms.",
                        "Analyses specific coaching moves and their effect on the coachee, "
                        "with a concrete change for the next cycle.",
                        "As proficient, and links the analysis to the research or the method "
                        "components.",
                    ],
                },
            ],
        },
    ],
    # Version 2, published after version 1: the catalog shows it; v1 stays readable.
    "revisions": [
        {
            "changes": {
                "estimated_hours": "24",
                "summary": (
                    "Coach a teacher or an aspiring leader through a full coaching cycle of at "
                    "least four weeks: a goal that matters to their students, evidence gathered "
                    "together, and a change you can both see."
                ),
            },
            "add_resources": [
                {
                    "kind": "link",
                    "title": "Learning Forward: Standards for Professional Learning",
                    "description": (
                        "Added in version 2: the standards that describe sustained, "
                        "job-embedded professional learning, which a coaching cycle puts into "
                        "practice."
                    ),
                    "url": "https://learningforward.org/standards-for-professional-learning/",
                },
            ],
        },
    ],
}

SHARED_LEADERSHIP: dict[str, Any] = {
    "slug": "shared-leadership-best-practices",
    "title": "Shared Leadership Best Practices",
    "summary": (
        "Build a leadership team that actually shares decisions: a clear charter, explicit "
        "decision rights, and teacher leaders who lead work that moves student results."
    ),
    "competency": (
        "The leader distributes leadership deliberately: establishes a leadership team with a "
        "charter and explicit decision rights, develops teacher leaders, and uses the team to "
        "plan, carry out and monitor one school or district improvement priority."
    ),
    "key_method": (
        "Distributed leadership in practice (after Spillane and after the Wallace Foundation's "
        "Learning from Leadership study): map who leads what today, charter a team around one "
        "priority, make decision rights explicit, and run the team with protocols and data."
    ),
    "method_components": [
        "Leadership map: who currently leads which work, formally and informally.",
        "Team charter: purpose, members and their roles, norms, meeting rhythm.",
        "Decision-rights matrix: for each kind of decision, whether the leader decides, "
        "consults, decides with the team, or delegates.",
        "One improvement priority with a measurable goal and an action plan with owners.",
        "Meeting protocols that give every member a voice (e.g. structured agendas, "
        "consultancy or tuning protocols).",
        "Teacher leader development: each member leads a piece of the plan, with support.",
        "Progress monitoring: the team reviews data on a set rhythm and adjusts the plan.",
    ],
    "learning_objectives": [
        "Describe how leadership is distributed in your school or department today.",
        "Charter a leadership team with a clear purpose, norms and roles.",
        "Make decision rights explicit so staff know how each decision is made.",
        "Lead the team through an improvement cycle with measurable goals.",
        "Grow the leadership capacity of teacher leaders on the team.",
    ],
    "research": (
        "The Wallace Foundation's six-year Learning from Leadership study (Louis, Leithwood, "
        "Wahlstrom and Anderson, 2010) found that collective leadership, the combined influence "
        "of principals, teachers, staff and parents, had a stronger link to student achievement "
        "than individual leadership, and that higher-performing schools gave greater influence "
        "to all stakeholders without the principal losing any. Spillane's distributed "
        "leadership research adds that what matters is not how many people hold titles but how "
        "leadership practice is stretched across leaders, followers and the routines they use. "
        "Shared leadership fails when it is vague: teams that do not know which decisions are "
        "theirs become advisory councils that staff stop trusting. That is why this credential "
        "asks for a charter and a decision-rights matrix, not only a team roster."
    ),
    "focus_area": "leading-the-organization",
    "categories": ["collaboration", "leadership-and-coaching"],
    "audiences": _LEADERS,
    "level": "level_1",
    "estimated_hours": "18",
    "credit_hours": None,
    "members_only": True,
    "member_fee": "0",
    "non_member_fee": None,
    "expiry_months": None,
    "resources": [
        {
            "kind": "link",
            "title": "The Wallace Foundation: school leadership research",
            "description": (
                "Find “Investigating the Links to Improved Student Learning” (Learning from "
                "Leadership, 2010) and the later reports on principals and leadership teams."
            ),
            "url": "https://www.wallacefoundation.org/",
        },
        {
            "kind": "reading",
            "title": "Distributed Leadership (James P. Spillane, Jossey-Bass, 2006)",
            "description": "Chapters 1 to 3: leadership as practice across leaders and routines.",
        },
        {
            "kind": "link",
            "title": "School Reform Initiative: protocols",
            "description": (
                "Free protocols for team meetings (consultancy, tuning, data analysis) that "
                "give every member a voice."
            ),
            "url": "https://www.schoolreforminitiative.org/protocols/",
        },
    ],
    "requirements": [
        {
            "title": "Team charter and decision-rights matrix",
            "kind": "file",
            "accepted_file_kinds": ["document", "spreadsheet", "presentation"],
            "max_file_size_mb": 25,
            "max_files": 3,
            "instructions": (
                "Upload your leadership team's charter (purpose, members and roles, norms, "
                "meeting rhythm) and a decision-rights matrix listing at least eight recurring "
                "decisions and how each is made."
            ),
            "criteria": [
                {
                    "title": "Charter gives the team a real purpose",
                    "levels": [
                        "No charter, or a list of members only.",
                        "Purpose and members are given; norms or roles are missing.",
                        "Purpose tied to an improvement priority, roles, norms and meeting "
                        "rhythm are all clear.",
                        "As proficient, and the charter was drafted with the team and shows "
                        "how members are chosen and rotated.",
                    ],
                },
                {
                    "title": "Decision rights are explicit",
                    "levels": [
                        "Decision rights are not addressed.",
                        "Some decisions are listed but how they are made is unclear.",
                        "At least eight decisions, each with a clear mode (decide, consult, "
                        "decide together, delegate).",
                        "As proficient, and the matrix has been shared with staff and used to "
                        "settle a real disagreement.",
                    ],
                },
            ],
        },
        {
            "title": "Link to the team's action plan",
            "kind": "link",
            "instructions": (
                "Share a view-only link (Google Docs, OneDrive, SharePoint) to the team's live "
                "action plan for its improvement priority: goal, actions, owners, dates and the "
                "data the team reviews."
            ),
            "criteria": [
                {
                    "title": "Plan is owned and monitored by the team",
                    "levels": [
                        "No action plan, or a plan with the principal as the only owner.",
                        "Actions have owners but no measurable goal or monitoring.",
                        "Measurable goal; actions owned by different team members; a data "
                        "review rhythm.",
                        "As proficient, and the plan shows at least one adjustment made after "
                        "reviewing data.",
                    ],
                },
            ],
        },
        {
            "title": "Reflection: what changed when leadership was shared",
            "kind": "text",
            "word_min": 500,
            "word_max": 1000,
            "instructions": (
                "Describe how leadership was distributed before and after, one decision the "
                "team made that you would once have made alone, and what you learned about "
                "letting go. Include what happened for students or staff."
            ),
            "criteria": [
                {
                    "title": "Reflects on distributing leadership",
                    "levels": [
                        "Describes the team's activities only.",
                        "Notes changes in general terms without evidence.",
                        "Analyses a specific shift in decision-making and its effect, with "
                        "evidence from staff or student data.",
                        "As proficient, and identifies the next step in growing teacher "
                        "leadership.",
                    ],
                },
            ],
        },
    ],
}

LITERACY_LEADERSHIP: dict[str, Any] = {
    "slug": "literacy-leadership-institutes",
    "title": "Literacy Leadership Institutes",
    "summary": (
        "Lead evidence-based reading instruction across a school: audit the core literacy "
        "program, build your staff's knowledge, and monitor results with universal screening."
    ),
    "competency": (
        "The leader leads school-wide literacy improvement grounded in the science of reading: "
        "audits core instruction and assessment against the evidence, leads professional "
        "learning for staff, and uses screening and progress-monitoring data to act."
    ),
    "key_method": (
        "A literacy leadership cycle built on the Simple View of Reading (word recognition times "
        "language comprehension) and Scarborough's Reading Rope: audit, prioritise, build staff "
        "knowledge, monitor with data."
    ),
    "method_components": [
        "Literacy audit: curriculum materials, instructional time, assessment and intervention "
        "checked against the evidence.",
        "Priority setting with the literacy leadership team from the audit and screening data.",
        "Professional learning for staff on the strand of the Reading Rope the audit points to "
        "(e.g. phonemic awareness, decoding, vocabulary, background knowledge).",
        "Walkthroughs focused on the priority practice, with feedback to teachers.",
        "Universal screening three times a year and progress monitoring for students in "
        "intervention.",
        "Data meetings that decide instruction and intervention changes.",
    ],
    "learning_objectives": [
        "Explain the Simple View of Reading and the Reading Rope to staff and families.",
        "Audit a school's literacy program against evidence-based practice.",
        "Design and lead professional learning on one literacy priority.",
        "Use screening and progress-monitoring data to plan instruction and intervention.",
        "Align the school's plan with Georgia's early-literacy requirements.",
    ],
    "research": (
        "The Simple View of Reading (Gough and Tunmer, 1986) shows that reading comprehension "
        "is the product of word recognition and language comprehension: weakness in either "
        "limits the result, so leaders must look at both. Scarborough's Reading Rope (2001) "
        "breaks each into the strands teachers teach. The National Reading Panel (2000) and "
        "the What Works Clearinghouse practice guide on foundational skills (Foorman et al., "
        "2016) found strong evidence for explicit, systematic instruction in phonemic awareness "
        "and phonics, alongside vocabulary and comprehension. Georgia's Early Literacy Act "
        "(2023) asks districts to screen K-3 students and use high-quality, evidence-based "
        "materials; school leaders are the ones who turn those requirements into daily "
        "practice, which is why this institute centres on the leader's audit, professional "
        "learning and data cycle rather than on a single classroom."
    ),
    "focus_area": "leading-the-organization",
    "categories": ["literacy", "leadership-and-coaching"],
    "audiences": _EDUCATORS,
    "level": "advanced",
    "estimated_hours": "30",
    "credit_hours": "3",
    "members_only": True,
    "member_fee": "0",
    "non_member_fee": None,
    "expiry_months": 36,
    "resources": [
        {
            "kind": "link",
            "title": "WWC practice guide: Foundational Skills to Support Reading for "
            "Understanding in Kindergarten Through 3rd Grade",
            "description": (
                "Four recommendations with their levels of evidence and classroom examples."
            ),
            "url": "https://ies.ed.gov/ncee/wwc/PracticeGuide/21",
        },
        {
            "kind": "link",
            "title": "Reading Rockets",
            "description": (
                "Articles and classroom videos on each strand of reading; useful for staff "
                "professional learning sessions."
            ),
            "url": "https://www.readingrockets.org/",
        },
        {
            "kind": "reading",
            "title": "Scarborough, H. (2001). Connecting early language and literacy to later "
            "reading (dis)abilities",
            "description": "The source of the Reading Rope, in the Handbook of Early Literacy "
            "Research (Neuman and Dickinson, eds.).",
        },
    ],
    "requirements": [
        {
            "title": "School literacy audit",
            "kind": "file",
            "accepted_file_kinds": ["document", "spreadsheet"],
            "max_file_size_mb": 25,
            "max_files": 3,
            "instructions": (
                "Upload your audit of the school's literacy program: materials, minutes of "
                "instruction per component, assessments and intervention, each rated against "
                "the evidence, with the two or three priorities you drew from it."
            ),
            "criteria": [
                {
                    "title": "Audit is evidence-based",
                    "levels": [
                        "The audit lists materials without judging them against evidence.",
                        "Some components are rated; word recognition or language "
                        "comprehension is missing.",
                        "Both halves of the Simple View are audited against the evidence and "
                        "lead to clear priorities.",
                        "As proficient, and screening data and classroom observations confirm "
                        "the priorities.",
                    ],
                },
            ],
        },
        {
            "title": "Professional learning you led",
            "kind": "file",
            "accepted_file_kinds": ["presentation", "video", "document"],
            "max_file_size_mb": 2048,
            "max_files": 3,
            "instructions": (
                "Upload the materials of a professional learning session you led for staff on "
                "one priority (slides or handouts) and, if you can, a video of a 5 to 10 minute "
                "segment of the session."
            ),
            "criteria": [
                {
                    "title": "Builds staff knowledge of the priority",
                    "levels": [
                        "The session is informational only or unrelated to the audit.",
                        "Content is accurate but teachers have no chance to practise.",
                        "Accurate content tied to the audit priority, with modelling and "
                        "practice for teachers.",
                        "As proficient, and the session ends with a classroom commitment that "
                        "later walkthroughs follow up.",
                    ],
                },
            ],
        },
        {
            "title": "Data cycle and next steps",
            "kind": "text",
            "word_min": 600,
            "word_max": 1200,
            "instructions": (
                "Summarise screening results at two points in time (no student names), what "
                "the literacy team decided at its data meeting, and the changes to instruction "
                "or intervention that followed."
            ),
            "criteria": [
                {
                    "title": "Uses data to act",
                    "levels": [
                        "Data are reported without decisions.",
                        "Decisions are made but not clearly linked to the data.",
                        "Decisions about instruction or intervention follow from the data at "
                        "two points in time.",
                        "As proficient, and the leader shows the effect of those decisions on "
                        "a group of students.",
                    ],
                },
            ],
        },
    ],
}

GAEL: dict[str, Any] = {
    "slug": "gael",
    "organization": {
        "name": "Georgia Association of Educational Leaders",
        "short_name": "GAEL",
        "tagline": (
            "Professional Investment Network: investing in ourselves, others, and our "
            "organizations to produce positive results"
        ),
        "description": (
            "The GAEL Micro-Credentialing Program is designed to assist educational leaders with "
            "investing in themselves, others, and their organizations to produce positive "
            "results. Courses are open to Georgia educational leaders who are GAEL members, "
            "including teachers, administrators, and central office and building-level "
            "leaders.\n\n"
            "A micro-credential is a short, competency-based recognition: you show, with "
            "evidence from your own work, that you have mastered one specific skill, and you "
            "earn a GAEL P.I.N. Micro-credentials build on the knowledge and skills you already "
            "bring from your degree and your career; they are not a replacement for formal "
            "education. Every course corresponds to one of three core areas of focus: "
            "Preparation of Self, Development of Others, and Leading the Organization to "
            "Produce Positive Results."
        ),
        "brand_colour": "#0b5394",
        "website": "https://www.gael.org",
        "contact_name": "Cindy Flesher",
        "contact_email": "cflesher@gael.org",
        "issuer_name": "Georgia Association of Educational Leaders",
        "issuer_url": "https://www.gael.org",
        "issuer_email": "cflesher@gael.org",
        "issuer_description": (
            "GAEL is Georgia's association of educational leaders. Its micro-credentials "
            "(GAEL P.I.N.s) recognise leadership skills demonstrated with evidence and scored "
            "by trained reviewers."
        ),
    },
    "program": {
        "slug": "micro-credentialing",
        "name": "GAEL Micro-Credentialing Program",
        "description": (
            "The Professional Investment Network: micro-credentials for GAEL members in three "
            "core areas of focus."
        ),
        "contact_name": "Cindy Flesher",
        "contact_email": "cflesher@gael.org",
    },
    "focus_areas": [
        {
            "slug": "preparation-of-self",
            "name": "Preparation of Self",
            "description": "Investing in your own skills as a leader.",
        },
        {
            "slug": "development-of-others",
            "name": "Development of Others",
            "description": "Growing the teachers and leaders you work with.",
        },
        {
            "slug": "leading-the-organization",
            "name": "Leading the Organization to Produce Positive Results",
            "description": "Leading teams, schools and districts to better results for students.",
        },
    ],
    "categories": [
        {"slug": "leadership-and-coaching", "name": "Leadership and Coaching"},
        {"slug": "communication", "name": "Communication"},
        {"slug": "literacy", "name": "Literacy"},
        {"slug": "collaboration", "name": "Collaboration"},
    ],
    "audiences": [
        {"slug": "teachers", "name": "Teachers"},
        {"slug": "school-administrators", "name": "School administrators"},
        {"slug": "central-office-leaders", "name": "Central office / building-level leaders"},
    ],
    "credentials": [
        CRUCIAL_CONVERSATIONS,
        LEADERSHIP_COACHING,
        SHARED_LEADERSHIP,
        LITERACY_LEADERSHIP,
    ],
    "pathways": [],
}
