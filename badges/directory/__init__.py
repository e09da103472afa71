"""Find expertise: the directory of educators who opted in (``/o/<org>/directory/``) and its
search index (docs/decisions/0032-directory-and-recognition.md).

- ``index``: one set-based builder of the search entries, which the services that change what
  the directory searches call (and a beat task, for what ``programs`` changes).
- ``selectors``: who may see whom (one rule), and the search.
- ``services``: the educator's directory profile.
"""
