"""The 20-question Screencastify quiz (seed 004: “use the extension to explain how I was going to
use it with my students as well as take a 20 question quiz”). ``answer`` is the index of the one
correct choice."""

from __future__ import annotations

from typing import Any

SCREENCASTIFY_QUIZ: list[dict[str, Any]] = [
    {
        "prompt": "How is Screencastify installed on a teacher's computer or Chromebook?",
        "choices": [
            "As a desktop program that only runs on Windows",
            "As an extension added to the Google Chrome browser from the Chrome Web Store",
            "As an add-on inside Google Slides",
            "As a plug-in for Microsoft PowerPoint",
        ],
        "answer": 1,
    },
    {
        "prompt": "Which three recording modes does Screencastify offer?",
        "choices": [
            "Browser tab, desktop, and webcam only",
            "Slides, documents, and spreadsheets",
            "Audio only, photo, and time-lapse",
            "Full screen, half screen, and quarter screen",
        ],
        "answer": 0,
    },
    {
        "prompt": "Screencastify connects to which Google service to store and share recordings?",
        "choices": ["Google Keep", "Google Drive", "Google Calendar", "Google Sites"],
        "answer": 1,
    },
    {
        "prompt": (
            "You want students to see your face in a corner of the screen while you walk them "
            "through a Google Slides deck. What do you turn on before recording?"
        ),
        "choices": [
            "Webcam-only mode",
            "The embedded webcam option",
            "Presenter view in Slides",
            "Full-screen mode in Chrome",
        ],
        "answer": 1,
    },
    {
        "prompt": (
            "While recording, which Screencastify tools help you direct students' attention to "
            "one part of the screen?"
        ),
        "choices": [
            "The annotation tools, such as the pen, click highlighting and mouse spotlight",
            "The Chrome zoom keyboard shortcut only",
            "The Google Classroom stream",
            "A second webcam",
        ],
        "answer": 0,
    },
    {
        "prompt": (
            "Your recording starts with ten seconds of you finding the right tab. How do you "
            "remove them without recording again?"
        ),
        "choices": [
            "Delete the recording and start over",
            "Trim the start of the video in the Screencastify editor",
            "Ask students to skip ahead",
            "Rename the file in Google Drive",
        ],
        "answer": 1,
    },
    {
        "prompt": (
            "Part of your screen briefly showed a student's name and grade. Which editor tool "
            "hides it without re-recording?"
        ),
        "choices": ["Blur", "Merge", "Add text", "Speed up"],
        "answer": 0,
    },
    {
        "prompt": (
            "You want to reuse only your spoken explanation as a podcast-style file. Which "
            "export format do you choose?"
        ),
        "choices": ["Animated GIF", "MP3 (audio)", "PNG image", "PDF"],
        "answer": 1,
    },
    {
        "prompt": "What does Screencastify Submit let a teacher do?",
        "choices": [
            "Submit grades to the district's student information system",
            "Collect video recordings from students through an assignment link",
            "Send recordings to a printer",
            "Publish recordings to a public video channel automatically",
        ],
        "answer": 1,
    },
    {
        "prompt": (
            "What is the most direct way to get a finished recording to a class that uses "
            "Google Classroom?"
        ),
        "choices": [
            "Email the video file to each student separately",
            "Share it to Google Classroom from Screencastify, or post its link as class material",
            "Burn it to a DVD for the class",
            "Upload it to a personal social-media account",
        ],
        "answer": 1,
    },
    {
        "prompt": ("Before recording your whole desktop, what is the most important privacy step?"),
        "choices": [
            "Turn up the microphone volume",
            "Close email, gradebooks and notifications that could show student information",
            "Change your desktop wallpaper",
            "Switch the browser to dark mode",
        ],
        "answer": 1,
    },
    {
        "prompt": (
            "Which recording mode lets you capture an application outside of Chrome, such as a "
            "desktop graphing program?"
        ),
        "choices": [
            "Browser tab",
            "Desktop",
            "Webcam only",
            "None: Screencastify only records Chrome",
        ],
        "answer": 1,
    },
    {
        "prompt": ("Your narration is not being recorded. What should you check first?"),
        "choices": [
            "That the right microphone is selected and Chrome has permission to use it",
            "That the webcam is embedded",
            "That the video is shared with students",
            "That you have a Google Classroom account",
        ],
        "answer": 0,
    },
    {
        "prompt": (
            "A large study of instructional videos on edX (Guo, Kim and Rubin, 2014) found "
            "that student engagement:"
        ),
        "choices": [
            "Rises steadily with longer videos",
            "Drops sharply for videos longer than about six minutes",
            "Does not depend on video length",
            "Is highest for videos over twenty minutes",
        ],
        "answer": 1,
    },
    {
        "prompt": (
            "Splitting a 25-minute explanation into five short videos, one per step, applies "
            "which multimedia-learning principle?"
        ),
        "choices": [
            "The segmenting principle",
            "The redundancy principle",
            "The personalization principle",
            "The modality principle",
        ],
        "answer": 0,
    },
    {
        "prompt": (
            "Highlighting your cursor and circling the key number on screen while you explain it "
            "applies which multimedia-learning principle?"
        ),
        "choices": [
            "The coherence principle",
            "The signaling principle",
            "The pre-training principle",
            "The voice principle",
        ],
        "answer": 1,
    },
    {
        "prompt": (
            "A student who is deaf or hard of hearing is in your class. What makes your "
            "screencasts accessible to them?"
        ),
        "choices": [
            "Recording at a higher resolution",
            "Providing accurate captions or a transcript",
            "Speaking more loudly",
            "Embedding your webcam",
        ],
        "answer": 1,
    },
    {
        "prompt": "Which is the best use of Screencastify in a flipped lesson?",
        "choices": [
            "Recording a full 50-minute lecture for students to watch in class",
            "Recording a short explanation students watch before class, so class time goes to "
            "practice and questions",
            "Recording the class during a test",
            "Replacing all in-class discussion with videos",
        ],
        "answer": 1,
    },
    {
        "prompt": (
            "Which student task uses Screencastify to make students' thinking visible to you?"
        ),
        "choices": [
            "Students watch a video you recorded",
            "Students record themselves solving a problem while narrating their reasoning",
            "Students download the extension's settings",
            "Students copy notes from your screencast",
        ],
        "answer": 1,
    },
    {
        "prompt": "How can Screencastify make feedback on student writing more useful?",
        "choices": [
            "By replacing all written comments with a grade",
            "By recording your screen over the student's document while you talk through your "
            "comments, then sharing the link with that student",
            "By recording the whole class reading the essay aloud",
            "By automatically correcting spelling",
        ],
        "answer": 1,
    },
]
