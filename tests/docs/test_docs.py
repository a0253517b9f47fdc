"""The documentation is tested like code.

* Every fenced ``python`` block of ``README.md`` and ``docs/**/*.md`` runs: the blocks
  of one file in order, in one namespace (so a later block can use what an earlier
  one defined), each file in a fresh namespace, in a temporary working directory.
  A block opened with ```` ```python no-run ```` is only compiled. ``pycon`` blocks
  (``>>>`` sessions) run as doctests in the same namespace.
* The README shows ``make demo`` and ``make test`` before its first code block.
* Every doctest in every module of ``b2bcore`` passes.
* Every public module is in the API reference, and the Sphinx build passes with
  warnings as errors and nitpicky references (marked ``slow``).
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from types import CodeType

import attrs
import pytest

import b2bcore

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"

#: Modules whose doctests cannot run on their own: importing ``__main__`` runs the
#: CLI, and the contract suite's examples need pytest fixtures.
NO_DOCTEST = frozenset({"b2bcore.__main__", "b2bcore.testing.contracts"})

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*?)\s*$")


@attrs.frozen
class Block:
    """One fenced code block of a Markdown file."""

    path: Path
    line: int  # 1-based line number of the first line of code
    language: str
    flags: tuple[str, ...]
    code: str

    @property
    def where(self) -> str:
        """``file:line`` for messages."""
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def fenced_blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, in order (nested fences are skipped)."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        fence = opening["fence"]
        words = opening["info"].split()
        start = i + 1
        i = start
        while i < len(lines):
            closing = _FENCE.match(lines[i])
            if (
                closing is not None
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
                and not closing["info"]
            ):
                break
            i += 1
        else:
            raise AssertionError(f"{path.relative_to(ROOT)}:{start}: unclosed code fence")
        code = "\n".join(line.removeprefix(opening["indent"]) for line in lines[start:i])
        language = words[0] if words else ""
        blocks.append(Block(path, start + 1, language, tuple(words[1:]), code + "\n"))
        i += 1
    return blocks


def markdown_files() -> list[Path]:
    """README.md and every Markdown page of the docs (not the build output)."""
    pages = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.relative_to(DOCS).parts)
    return [README, *pages]


def _file_id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _compile(block: Block) -> CodeType:
    # Pad with blank lines so tracebacks point at the line in the Markdown file.
    source = "\n" * (block.line - 1) + block.code
    return compile(source, str(block.path), "exec")


def _run_pycon(block: Block, namespace: dict[str, object]) -> None:
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block.code, namespace, block.where, str(block.path), block.line - 1)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    runner.run(test, out=report.append, clear_globs=False)
    assert runner.failures == 0, "".join(report)


@pytest.mark.parametrize("path", markdown_files(), ids=_file_id)
def test_code_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem.replace('-', '_')}"}
    for block in fenced_blocks(path):
        if block.language == "python":
            code = _compile(block)
            if "no-run" in block.flags:
                continue
            try:
                exec(code, namespace)  # running the docs is the point
            except Exception as e:
                raise AssertionError(f"the code block at {block.where} failed: {e!r}") from e
        elif block.language == "pycon":
            _run_pycon(block, namespace)


def test_there_are_runnable_blocks() -> None:
    runnable = [
        b
        for path in markdown_files()
        for b in fenced_blocks(path)
        if b.language == "python" and "no-run" not in b.flags
    ]
    assert {b.path for b in runnable} >= {README, DOCS / "getting-started.md"}


def test_block_parser_handles_info_strings_and_longer_fences(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# t\n\n```python no-run\nx = 1\n```\n\n````markdown\n```python\ny = 2\n```\n````\n",
        encoding="utf-8",
    )
    blocks = [attrs.evolve(b, path=ROOT / "page.md") for b in fenced_blocks(page)]
    assert [(b.line, b.language, b.flags, b.code) for b in blocks] == [
        (4, "python", ("no-run",), "x = 1\n"),
        (8, "markdown", (), "```python\ny = 2\n```\n"),
    ]


def test_readme_shows_the_two_commands_before_any_code() -> None:
    text = README.read_text(encoding="utf-8")
    first_code = text.find("```python")
    assert first_code != -1, "the README has no python example"
    head = text[:first_code]
    assert "make demo" in head
    assert "make test" in head


def test_storage_guide_names_only_existing_contract_checks() -> None:
    from b2bcore.testing.contracts import StoreContract

    guide = (DOCS / "guides" / "storage-adapter.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(test_\w+)`", guide))
    suite = {name for name in dir(StoreContract) if name.startswith("test_")}
    assert named, "the guide lists the checks of the contract suite"
    assert named <= suite, f"no longer in the suite: {sorted(named - suite)}"


# --- doctests --------------------------------------------------------------------------


def _modules() -> list[str]:
    found = [info.name for info in pkgutil.walk_packages(b2bcore.__path__, prefix="b2bcore.")]
    return sorted({"b2bcore", *found})


@pytest.mark.parametrize("name", [m for m in _modules() if m not in NO_DOCTEST])
def test_module_doctests_pass(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    result = doctest.testmod(module, report=True)
    assert result.failed == 0, capsys.readouterr().out


# --- the API reference and the Sphinx build -------------------------------------------


def _public(name: str) -> bool:
    return not any(part.startswith("_") for part in name.split("."))


@pytest.mark.parametrize("name", [m for m in _modules() if _public(m) and m != "b2bcore"])
def test_public_module_is_in_the_api_reference(name: str) -> None:
    reference = (DOCS / "reference" / "index.md").read_text(encoding="utf-8")
    assert re.search(rf"^\.\. automodule:: {re.escape(name)}$", reference, re.MULTILINE), (
        f"add `.. automodule:: {name}` to docs/reference/index.md"
    )


@pytest.mark.slow
def test_sphinx_build_has_no_warnings(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-n",
            "-q",
            "-b",
            "html",
            str(DOCS),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
