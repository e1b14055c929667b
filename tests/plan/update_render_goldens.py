"""Rewrite tests/fixtures/render/<case>/expected.txt (and .json, .md) from the current renderers.

Run by hand after a deliberate change to the plan's wording, then review the diff:

    python tests/plan/update_render_goldens.py [CASE ...]

The test (test_render_text.py) only ever compares; it never writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_render_json import CASES as JSON_CASES
from test_render_json import doc_of
from test_render_markdown import MARKDOWN_CASES, markdown
from test_render_text import CASES, FIXTURES, render

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "apply"))
from test_progress import CASES as PROGRESS_CASES
from test_progress import play


def main(argv: list[str]) -> int:
    unknown = sorted(set(argv) - set(CASES))
    if unknown:
        print(f"unknown case(s): {', '.join(unknown)}; cases are: {', '.join(CASES)}", file=sys.stderr)
        return 2
    for case in argv or CASES:
        path = FIXTURES / case / "expected.txt"
        text = render(case)
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
            print(f"updated {path}")
    for case in argv or PROGRESS_CASES:
        path = FIXTURES / case / "expected.txt"
        if case in PROGRESS_CASES and path.read_text() != play(case):
            path.write_text(play(case))
            print(f"updated {path}")
    for case in argv or JSON_CASES:
        path = FIXTURES / case / "expected.json"
        text = json.dumps(doc_of(case), indent=2, sort_keys=True) + "\n"
        if case in JSON_CASES and path.is_file() and path.read_text() != text:  # only the cases that have one
            path.write_text(text)
            print(f"updated {path}")
    for case in argv or MARKDOWN_CASES:
        path = FIXTURES / case / "expected.md"
        if case in MARKDOWN_CASES and path.read_text() != markdown(case):
            path.write_text(markdown(case))
            print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
