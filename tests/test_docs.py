"""The project explains itself: the README and docs/ need nothing outside the repository.

- No tracked file points at the shared inputs the project was once written from (a clone does not
  have them); the docs are the project's own.
- Every rule ID named in services/ has its entry (a heading, so a `docs/rules.md#reg-3` link works)
  in docs/rules.md, and every place docs/rules.md names as enforcing a rule exists.
- Every relative link in README.md and docs/*.md reaches a file, and a `#fragment` into a Markdown
  file reaches one of its headings; every `docs/*.md` a tracked file mentions exists.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RULES = DOCS / "rules.md"

# The rule families of docs/rules.md.
FAMILIES = "REG|AUTH|CODE|RN|RNP|RNE|ORG|CHG|STU|PROF|MFA|APL|REC|CAN|ENT|REV|WH"
# A rule ID, or a range such as `RNE-2..4` / `REG-2..REG-7` (the second prefix, when written, is the same).
RULE_ID = re.compile(rf"\b({FAMILIES})-(\d+)(?:\.\.(?:\1-)?(\d+))?(?!\d)")
# The shared inputs' locations, spelled so that this file does not match itself.
OUTSIDE = re.compile(rb"\.\./shared\b|\bshared[/]spec\b")
DOC_MENTION = re.compile(r"\bdocs/[\w.-]+\.md\b")
FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# `services/accounts/service.py: register_cloud, _registration_gate` (a span may wrap over lines).
PLACE = re.compile(r"^((?:services|backoffice|schema|resolvers|sandbox|models)/[\w/]+\.py)(?::\s*(.+))?$", re.DOTALL)
# Directories `git ls-files` would not list (used only where git is not available).
UNTRACKED_DIRS = {".git", ".venv", ".tools", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache"}
UNTRACKED_DIRS |= {".pytest_cache", ".schemathesis", "fuzz-report", "var", "results"}


@functools.cache
def tracked_files() -> tuple[Path, ...]:
    git = shutil.which("git")
    if git is not None and (ROOT / ".git").exists():
        # A fixed argument list (no input reaches it), run in the repository.
        listed = subprocess.run([git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)  # noqa: S603
        names = [n for n in listed.stdout.decode().split("\0") if n]
        return tuple(ROOT / n for n in names if (ROOT / n).is_file())
    found = []
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = [d for d in subdirectories if d not in UNTRACKED_DIRS]
        found += [Path(directory) / f for f in files if not f.endswith((".pyc", ".db", ".db-wal", ".db-shm"))]
    return tuple(found)


def markdown_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def prose(markdown: str) -> str:
    """The text outside fenced code blocks."""
    return FENCE.sub("", markdown)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: markup dropped, lower case, punctuation removed, spaces to `-`."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").replace("*", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


@functools.cache
def anchors(page: Path) -> frozenset[str]:
    text = prose(page.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    found = set(HTML_ANCHOR.findall(text))
    for heading in HEADING.findall(text):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


def rule_ids(text: str) -> set[str]:
    ids = set()
    for prefix, low, high in RULE_ID.findall(text):
        ids |= {f"{prefix}-{n}" for n in range(int(low), int(high or low) + 1)}
    return ids


def test_no_tracked_file_points_outside_the_repository() -> None:
    # Given every file git tracks, when each is searched for the shared inputs' paths
    offending = [str(p.relative_to(ROOT)) for p in tracked_files() if OUTSIDE.search(p.read_bytes())]
    # Then none is found: the project's docs are its own.
    assert offending == []


def test_every_rule_id_in_services_has_an_entry_in_the_rules_page() -> None:
    # Given the rule IDs that services/ names (comments, docstrings, messages)
    named = set()
    for path in sorted((ROOT / "services").rglob("*.py")):
        named |= rule_ids(path.read_text(encoding="utf-8"))
    assert len(named) > 50  # the scan found the rules the code enforces
    # When the rules page is read, then each has its heading, so `docs/rules.md#reg-3` links work.
    missing = sorted(i for i in named if i.lower() not in anchors(RULES))
    assert missing == []


def test_the_places_the_rules_page_names_exist() -> None:
    # Given every `path: name, ...` span of the rules page (and every path span of any docs page)
    places = []
    for page in markdown_pages():
        for span in INLINE_CODE.findall(prose(page.read_text(encoding="utf-8"))):
            match = PLACE.match(" ".join(span.strip("`").split()))
            if match:
                places.append((page.name, match[1], match[2]))
    assert any(page == "rules.md" and names for page, _, names in places)
    # Then the module exists and defines each name at its top level (a function, class or constant).
    wrong = []
    for page, module, names in places:
        path = ROOT / module
        if not path.is_file():
            wrong.append(f"{page}: {module}")
            continue
        source = path.read_text(encoding="utf-8")
        for name in (n.strip() for n in (names or "").split(",") if n.strip()):
            definition = rf"^(?:async\s+def|def|class)\s+{re.escape(name)}\b|^{re.escape(name)}\s*[:=]"
            if not re.search(definition, source, re.MULTILINE):
                wrong.append(f"{page}: {module}: {name}")
    assert wrong == []


def test_relative_links_in_the_readme_and_docs_resolve() -> None:
    # Given every link of README.md and docs/*.md outside code
    broken = []
    checked = 0
    for page in markdown_pages():
        text = INLINE_CODE.sub("", prose(page.read_text(encoding="utf-8")))
        for target in LINK.findall(text):
            if SCHEME.match(target):
                continue  # http(s), mailto: not this test's business
            checked += 1
            file_part, _, fragment = target.partition("#")
            path = (page.parent / file_part).resolve() if file_part else page
            # Then the file exists, and a fragment into a Markdown page names one of its headings.
            if not path.exists():
                broken.append(f"{page.name}: {target}")
            elif fragment and path.suffix == ".md" and fragment not in anchors(path):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert checked > 100  # the rules page alone links every rule's tests
    assert broken == []


def test_every_docs_page_a_tracked_file_mentions_exists() -> None:
    # Given the `docs/*.md` pages named in code comments, docstrings, scripts and docs
    mentioned: dict[str, set[str]] = {}
    for path in tracked_files():
        if path.suffix not in {".py", ".md", ".html", ".toml", ".ini", ".cfg", ".sh", ".graphql", ".ts", ".json"}:
            continue
        for name in DOC_MENTION.findall(path.read_text(encoding="utf-8", errors="replace")):
            mentioned.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    assert "docs/rules.md" in mentioned
    # Then each exists (a renamed page leaves no stale pointer behind).
    missing = {name: sorted(files) for name, files in mentioned.items() if not (ROOT / name).is_file()}
    assert missing == {}
