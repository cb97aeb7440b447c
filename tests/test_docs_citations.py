"""What the repository cites is in the repository.

The rules and decisions the code relies on are stated in the project's own docs
(docs/regulations.md, docs/curriculum.md, docs/development.md); a clone must be enough to read
every citation. So, over every file git tracks (or would add: untracked files not ignored):

- nothing cites a document outside the repository: the working notes the project started from
  (a ``shared/`` folder beside the repository, whose rules file was ``assessment-rules.md``,
  cited by section as "§1.6"), which a clone does not have;
- every ``docs/<page>.md#<anchor>`` cited anywhere, and every ``<page>.md#<anchor>`` link
  between the docs, names a page that exists and a heading on it, by GitHub's anchor rules;
- every ``docs/<page>.md`` cited exists.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
THIS_FILE = Path(__file__).resolve()

#: A path outside the repository: the notes folder beside it, or its rules file by name.
OUTSIDE = re.compile(r"shared/|assessment-rules\.md")
#: A section of those notes cited by number ("§1.6", "§1.7-1.9", "§2"): their sections ran
#: from 1 to 4. A standard's own sections (RFC 8017 §9.2, ETSI EN 319 102-1 §5.6.3) are fine.
OLD_SECTION = re.compile(r"§\s?[1-4](?:\.\d+)?\b")
STANDARD_NAME = re.compile(r"\b(?:RFC|ISO|IEC|ETSI|ITU|X\.\d{3}|PKCS|NIST)\b")
#: ``docs/regulations.md#learning-result``, anywhere (code, tests, templates, docs).
DOCS_ANCHOR = re.compile(r"\bdocs/([\w.-]+\.md)#([\w-]+)")
#: ``docs/curriculum.md``, with or without an anchor.
DOCS_PAGE = re.compile(r"\bdocs/([\w.-]+\.md)\b")
#: A Markdown link to a heading, inside docs/: ``[text](regulations.md#promotion)``,
#: ``[text](#promotion)``.
MD_LINK = re.compile(r"\]\(([\w./-]*\.md)?#([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
MD_INLINE_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def repository_files() -> list[Path]:
    """Every file git tracks, plus untracked files that are not ignored (about to be added)."""
    result = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=BASE_DIR,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"git ls-files failed in {BASE_DIR}: {result.stderr.decode()}")
    names = sorted({name for name in result.stdout.decode().split("\0") if name})
    return [BASE_DIR / name for name in names]


@cache
def text_of(path: Path) -> str | None:
    """The file's text, or None for a binary file (or one deleted from the working tree)."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def text_files() -> list[tuple[str, str]]:
    """(path relative to the repository, text) for every text file but this one."""
    files = []
    for path in repository_files():
        if path.resolve() == THIS_FILE or path.suffix == ".po":
            continue  # a catalogue copies its msgids from the code, wrapped: checked there
        text = text_of(path)
        if text is not None:
            files.append((path.relative_to(BASE_DIR).as_posix(), text))
    return files


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading's text: links reduced to their text, lower case,
    punctuation and symbols dropped (letters, digits, marks, ``_`` and ``-`` kept), each space
    a hyphen."""
    text = MD_INLINE_LINK.sub(r"\1", heading).lower()
    kept = "".join(
        ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in ("L", "N", "M")
    )
    return kept.replace(" ", "-")


def anchors_of(markdown: str) -> set[str]:
    """The anchors of a Markdown page's headings (outside fenced code), with GitHub's ``-1``,
    ``-2`` suffixes for repeated headings."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        match = None if fenced else HEADING.match(line)
        if match:
            anchor = github_anchor(match.group(2))
            count = seen.get(anchor, 0)
            seen[anchor] = count + 1
            anchors.add(anchor if count == 0 else f"{anchor}-{count}")
    return anchors


@cache
def page_anchors(page: Path) -> frozenset[str] | None:
    """The anchors of a page in the repository, or None if there is no such page."""
    text = text_of(page) if page.is_file() else None
    return None if text is None else frozenset(anchors_of(text))


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def outside_citations(name: str, text: str) -> list[str]:
    """Citations of documents outside the repository in one file, as ``path:line: text``."""
    found = []
    for match in OUTSIDE.finditer(text):
        found.append(f"{name}:{line_of(text, match.start())}: {match.group(0)}")
    for match in OLD_SECTION.finditer(text):
        before = text[max(0, match.start() - 120) : match.start()]
        if not STANDARD_NAME.search(before):
            found.append(f"{name}:{line_of(text, match.start())}: {match.group(0)}")
    return found


def broken_links(name: str, text: str) -> list[str]:
    """Cited docs pages or headings that do not exist, as ``path:line: citation``."""
    broken = []
    for match in DOCS_ANCHOR.finditer(text):
        anchors = page_anchors(BASE_DIR / "docs" / match.group(1))
        if anchors is None or match.group(2) not in anchors:
            broken.append(f"{name}:{line_of(text, match.start())}: {match.group(0)}")
    for match in DOCS_PAGE.finditer(text):
        if not (BASE_DIR / "docs" / match.group(1)).is_file():
            broken.append(f"{name}:{line_of(text, match.start())}: {match.group(0)}")
    if name.startswith("docs/") and name.endswith(".md"):
        here = (BASE_DIR / name).parent
        for match in MD_LINK.finditer(text):
            page = (here / match.group(1)).resolve() if match.group(1) else BASE_DIR / name
            anchors = page_anchors(page)
            if anchors is None or match.group(2) not in anchors:
                broken.append(f"{name}:{line_of(text, match.start())}: {match.group(0)}")
    return broken


def test_nothing_cites_a_document_outside_the_repository():
    found = [hit for name, text in text_files() for hit in outside_citations(name, text)]
    assert not found, (
        "These cite documents a clone does not have; cite the project's own docs instead "
        "(docs/regulations.md#<heading>, docs/curriculum.md, docs/development.md):\n  "
        + "\n  ".join(found)
    )


def test_every_cited_docs_page_and_heading_exists():
    files = text_files()
    broken = [hit for name, text in files for hit in broken_links(name, text)]
    assert not broken, (
        "These cite a docs page or heading that does not exist (a heading's anchor is its "
        "text in lower case, punctuation dropped, spaces as hyphens):\n  " + "\n  ".join(broken)
    )
    cited = sum(len(DOCS_ANCHOR.findall(text)) for _, text in files)
    assert cited >= 50, f"only {cited} docs/…#anchor citations found: is the pattern broken?"


def test_rule_modules_cite_the_regulations_page():
    rules = BASE_DIR / "gradebook" / "rules"
    for module in ("secondary", "primary", "averages", "learning", "year_end", "options"):
        text = (rules / f"{module}.py").read_text(encoding="utf-8")
        assert "docs/regulations.md#" in text, module


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Promotion", "promotion"),
        ("Fewer than six score-assessed subjects", "fewer-than-six-score-assessed-subjects"),
        ("Records, corrections and locking", "records-corrections-and-locking"),
        ("Secondary school (grades 6–12)", "secondary-school-grades-612"),
        ('Part 5. "Show the calculation"', "part-5-show-the-calculation"),
        ("Two-phase signing (`transcripts/batches.py`)", "two-phase-signing-transcriptsbatchespy"),
        ("What is assessed: *kết quả học tập*", "what-is-assessed-kết-quả-học-tập"),
        ("[The ledger](gradebook.md#the-ledger) and locks", "the-ledger-and-locks"),
        ("snake_case names", "snake_case-names"),
    ],
)
def test_github_anchor(heading, anchor):
    assert github_anchor(heading) == anchor


def test_repeated_headings_get_numbered_anchors_and_code_is_not_a_heading():
    page = "# Title\n## Notes\n```sh\n# a shell comment\n```\n## Notes\n"
    assert anchors_of(page) == {"title", "notes", "notes-1"}


def test_the_checks_catch_what_they_are_for():
    bad = (
        "see ../shared/domain/assessment-rules.md §1.6; also (spec §4)\n"
        "docs/regulations.md#no-such-heading and docs/no-such-page.md\n"
    )
    outside = outside_citations("x.py", bad)
    assert len(outside) == 4, outside  # shared/, assessment-rules.md, §1.6, §4
    assert outside_citations("x.py", "RFC 8017 §9.2; RFC 5652 §3; ETSI EN 319 102-1 §5.6.3") == []
    broken = broken_links("x.py", bad)
    assert any("no-such-heading" in hit for hit in broken), broken
    assert any("no-such-page" in hit for hit in broken), broken
    assert broken_links("x.py", "docs/regulations.md#learning-result") == []
