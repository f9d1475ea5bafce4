"""Every ```bash and ```python block of the README runs on the demo, in order, from a clean copy.

The blocks are found by parsing README.md, so a new block is tested as soon as it is written.
They run one after another in a copy of the checkout (tracked and untracked, not ignored,
files) with an empty store, as a reader following the README would; each block in its own shell,
each logical command checked on its own, so a failure names the README line. ``make demo`` and
``make test`` are left out (CI runs them). A command whose comment says ``(exit N)`` must exit N.
A block preceded by ``<!-- readme-test: skip REASON -->`` is not run (placeholders).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from sapbridge.config import project_root

ROOT = project_root()
README = ROOT / "README.md"
EXCLUDED = re.compile(r"^\s*make (demo|test)\b")
EXPECTED_EXIT = re.compile(r"#.*\(exit (\d+)\)")
SKIP_MARK = re.compile(r"<!--\s*readme-test:\s*skip\b")


@dataclass(frozen=True)
class Block:
    language: str
    line: int
    section: str
    text: str
    skipped: bool

    @property
    def name(self) -> str:
        return f"README.md:{self.line} [{self.section}] {self.language}"


def readme_blocks(path: Path = README) -> list[Block]:
    """The runnable fenced blocks of a Markdown file, in order, with the heading they sit under."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tokens = MarkdownIt("commonmark").parse(source)
    blocks, section = [], ""
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            section = tokens[index + 1].content
        if token.type != "fence" or token.info.strip() not in {"bash", "python"} or token.map is None:
            continue
        start = token.map[0]
        before = next((lines[i] for i in range(start - 1, -1, -1) if lines[i].strip()), "")
        blocks.append(Block(token.info.strip(), start + 1, section, token.content,
                            bool(SKIP_MARK.search(before))))
    return blocks


def logical_commands(text: str, first_line: int) -> Iterator[tuple[int, str, int]]:
    """(README line, command, expected exit code) for each command of a bash block."""
    pending, start = "", 0
    for offset, raw in enumerate(text.splitlines()):
        if not pending:
            start = first_line + 1 + offset
        pending += raw
        if raw.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        command, pending = pending, ""
        if not command.strip() or command.lstrip().startswith("#") or EXCLUDED.match(command):
            continue
        expected = EXPECTED_EXIT.search(command)
        yield start, command, int(expected.group(1)) if expected else 0


def checked_script(block: Block) -> str:
    """The block as a bash script that stops at the first command not exiting as expected."""
    parts = []
    for line, command, expected in logical_commands(block.text, block.line):
        quoted = command.replace("'", "'\\''")
        parts.append(f"{command}\n__rc=$?\nif [ $__rc -ne {expected} ]; then\n"
                     f"  echo 'README.md:{line}: exit '$__rc' (expected {expected}): {quoted}' >&2\n"
                     f"  exit 1\nfi\n")
    return "".join(parts)


def _clone_files(root: Path) -> list[str]:
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "--cached", "--others",
                                 "--exclude-standard"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: cannot make a clone-like copy")
    return [name for name in listed.stdout.splitlines() if (root / name).is_file()]


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A copy of the checkout as a fresh clone has it, with the running venv linked as .venv."""
    target = tmp_path_factory.mktemp("clone")
    for name in _clone_files(ROOT):
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, destination)
    (target / ".venv").symlink_to(Path(sys.prefix))
    return target


def _environment(clone: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAPBRIDGE_")}
    env["PATH"] = f"{clone / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["SAPBRIDGE_HOME"] = str(clone)
    env["HOME"] = str(clone)
    env.pop("VIRTUAL_ENV", None)
    env["COLUMNS"] = "100"
    return env


BLOCKS = readme_blocks()


def test_the_readme_has_runnable_blocks_and_the_parser_finds_them():
    names = [b.name for b in BLOCKS]
    assert any("Using it" in n for n in names), names
    assert any(b.language == "python" for b in BLOCKS)
    commands = [c for b in BLOCKS if b.language == "bash" for _, c, _ in logical_commands(b.text, b.line)]
    assert not any(EXCLUDED.match(c) for c in commands)
    assert any(c.startswith("sapbridge sync all --system demo") for c in commands)


def test_a_failing_command_is_reported_with_its_readme_line(tmp_path):
    block = Block("bash", 10, "x", "true\nfalse   # fails\nsapbridge-never-runs\n", False)
    result = subprocess.run(["bash", "-c", checked_script(block)], capture_output=True, text=True,
                            check=False, cwd=tmp_path)
    assert result.returncode == 1
    assert "README.md:12: exit 1 (expected 0): false" in result.stderr
    expected = Block("bash", 1, "x", "sh -c 'exit 3'   # (exit 3)\n", False)
    assert subprocess.run(["bash", "-c", checked_script(expected)], check=False).returncode == 0


def test_readme_blocks_run_in_order(clone: Path):
    """Every block not marked skip, in README order, in one clone. Later blocks build on earlier
    ones (the reports on the sync), so they run in one test: split over xdist workers, a block
    could run before the one it needs (``xdist_group`` does not keep them together here)."""
    for block in BLOCKS:
        if block.skipped:
            continue
        if block.language == "bash":
            command = ["bash", "-c", checked_script(block)]
        else:
            script = clone / f".readme-block-{block.line}.py"
            script.write_text(block.text, encoding="utf-8")
            command = [str(clone / ".venv" / "bin" / "python"), str(script)]
        result = subprocess.run(command, cwd=clone, env=_environment(clone), capture_output=True,
                                text=True, timeout=600, check=False)
        output = (result.stdout[-3000:] + "\n--- stderr ---\n" + result.stderr[-3000:]).strip()
        assert result.returncode == 0, f"{block.name} failed:\n{output}"
