"""Tab completion of ``%lamina`` lines: the pure completer, table-driven, and the extension's
own IPython matcher through a real shell's Completer, fed by a real Session's app cache."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from IPython.core.completer import provisionalcompleter
from IPython.core.interactiveshell import InteractiveShell

from lamina_notebook.magics.completion import (
    CachedAppParameters,
    complete,
    current_token,
    ipython_matcher,
)
from lamina_notebook.magics.help import SUBCOMMANDS
from lamina_notebook.magics.parse import parse
from lamina_notebook.models import App, Parameter
from lamina_notebook.session.session import Session

APPS = ["Photo Stylizer", "Portrait Studio", "Story Writer", 'Quote "Me"']
PARAMS = {
    "Photo Stylizer": [
        Parameter(id="1", name="Image", type="url"),
        Parameter(id="2", name="Style", type="options", options=("Disney / Pixar", "Anime")),
        Parameter(id="3", name="Aspect Ratio", type="options", options=("16:9", "1:1", "9:16")),
        Parameter(id="4", name="Prompt", type="text"),
    ],
}

COMPLETIONS: list[tuple[str, list[str]]] = [
    ("%lamina ", list(SUBCOMMANDS)),
    ("%lamina r", ["run", "resume", "runs"]),
    ("%lamina s", ["sandbox", "status", "star", "save"]),
    ("%%lamina ru", ["run", "runs"]),
    ("%lamina gr", ["grid"]),
    ("%lamina help h", ["history", "help"]),
    ("%lamina run ", ['"Photo Stylizer"', '"Portrait Studio"', '"Story Writer"', "'Quote \"Me\"'"]),
    ("%lamina run p", ['"Photo Stylizer"', '"Portrait Studio"']),
    ('%lamina info "Pho', ['"Photo Stylizer"']),
    ("%lamina widget sto", ['"Story Writer"']),
    ('%lamina run "Photo Stylizer" ', ["Image=", "Style=", '"Aspect Ratio=', "Prompt="]),
    ('%lamina run "photo stylizer" s', ["Style="]),
    ('%lamina run "Photo Stylizer" Style=Anime ', ["Image=", '"Aspect Ratio=', "Prompt="]),
    ('%lamina run "Photo Stylizer" "Aspect', ['"Aspect Ratio=']),
    (
        '%lamina run "Photo Stylizer" "Aspect Ratio=',
        ['"Aspect Ratio=16:9"', '"Aspect Ratio=1:1"', '"Aspect Ratio=9:16"'],
    ),
    ('%lamina run "Photo Stylizer" "Aspect Ratio=1', ['"Aspect Ratio=16:9"', '"Aspect Ratio=1:1"']),
    ('%lamina run "Photo Stylizer" Style=d', ['"Style=Disney / Pixar"']),
    ('%lamina run "Photo Stylizer" Prompt=', []),
    ('%lamina run "Photo Stylizer" --no', ["--no-wait", "--no-raise"]),
    ('%lamina grid "Photo Stylizer" --x ', ["Image", "Style", '"Aspect Ratio"', "Prompt"]),
    ('%lamina grid "Photo Stylizer" --x Style St', ["Style="]),
    (
        '%lamina grid "Photo Stylizer" --x Style Prompt=fox --y ',
        ["Image", "Style", '"Aspect Ratio"', "Prompt"],
    ),
    ('%lamina estimate "Photo Stylizer" Style=A', ["Style=Anime"]),
    ("%lamina estimate Pho", ['"Photo Stylizer"']),
    ('%lamina run "Photo Stylizer" --webhook ', []),
    ('%lamina run "Photo Stylizer" -o ', []),
    ('%lamina run "Photo Stylizer" --no-wait ', ["Image=", "Style=", '"Aspect Ratio=', "Prompt="]),
    ('%%lamina run "Photo Stylizer" --param ', ["Image", "Style", '"Aspect Ratio"', "Prompt"]),
    ("%lamina run Unknown ", []),
    (
        "%lamina history --app ",
        ['"Photo Stylizer"', '"Portrait Studio"', '"Story Writer"', "'Quote \"Me\"'"],
    ),
    ("%lamina history --l", ["--limit"]),
    ("%lamina status ", []),
    ("%lamina fly ", []),
]


@pytest.mark.parametrize(("line", "expected"), COMPLETIONS, ids=[c[0] for c in COMPLETIONS])
def test_complete(line: str, expected: list[str]) -> None:
    assert complete(line, APPS, PARAMS) == expected


def test_complete_with_a_lazy_mapping_missing_some_parameters() -> None:
    """Apps listed without loaded parameters complete to nothing instead of failing."""

    class Lazy(Mapping[str, Sequence[Parameter]]):
        def __iter__(self) -> Iterator[str]:
            return iter(["Story Writer", "Photo Stylizer"])

        def __len__(self) -> int:
            return 2

        def __getitem__(self, key: str) -> Sequence[Parameter]:
            if key != "Photo Stylizer":
                raise KeyError(key)
            return PARAMS[key]

    lazy = Lazy()
    assert complete("%lamina run 'photo stylizer' Pr", APPS, lazy) == ["Prompt="]
    assert complete("%lamina run 'story writer' ", APPS, lazy) == []


@pytest.mark.parametrize(
    ("line", "token"),
    [
        ("%lamina run ", ""),
        ("%lamina ru", "ru"),
        ('%lamina run "Photo Sty', '"Photo Sty'),
        ('%lamina run "Photo Stylizer" "Aspect Ratio=1', '"Aspect Ratio=1'),
        ("%lamina run X Style=An", "Style=An"),
    ],
)
def test_current_token_is_what_a_completion_replaces(line: str, token: str) -> None:
    assert current_token(line) == token


def test_completions_parse_back() -> None:
    """A completed line is a valid command: the quoting the completer emits is shlex's."""
    line = '%lamina run "Photo Stylizer" "Aspect Ratio=1'
    choice = complete(line, APPS, PARAMS)[0]
    finished = line[: len(line) - len(current_token(line))] + choice
    cmd = parse(finished.removeprefix("%lamina "))
    assert cmd.inputs == {"Aspect Ratio": "16:9"}
    quoted = complete("%lamina info Quo", APPS, PARAMS)[0]
    assert parse(f"info {quoted}").app == 'Quote "Me"'


@pytest.fixture
def session() -> Iterator[Session]:
    """A fresh Session (no key: nothing can be fetched) whose app cache the test fills."""
    s = Session()
    yield s
    s.close()


def _cache(session: Session, with_parameters: bool = True) -> None:
    session.remember_apps([App(app_id=f"id-{i}", name=name) for i, name in enumerate(APPS)])
    if with_parameters:
        session.remember_app(
            App(app_id="id-0", name="Photo Stylizer", parameters=tuple(PARAMS["Photo Stylizer"]))
        )


def _completions(shell: InteractiveShell, text: str) -> list[tuple[int, int, str]]:
    with provisionalcompleter():
        found = shell.Completer.completions(text, len(text))
        return [(c.start, c.end, c.text) for c in found]


@pytest.fixture
def shell_with_matcher(session: Session) -> Iterator[InteractiveShell]:
    """The real shell's Completer with the extension's matcher for ``session`` (not loaded as
    an extension: the matcher needs only the session)."""
    shell = InteractiveShell.instance()
    matcher = ipython_matcher(session)
    shell.Completer.custom_matchers.append(matcher)
    yield shell
    shell.Completer.custom_matchers.remove(matcher)


def test_the_extensions_matcher_replaces_the_token_being_typed(
    session: Session, shell_with_matcher: InteractiveShell
) -> None:
    _cache(session)
    text = '%lamina run "Photo Stylizer" "Aspect Ratio=1'
    assert _completions(shell_with_matcher, text) == [
        (29, 44, '"Aspect Ratio=16:9"'),
        (29, 44, '"Aspect Ratio=1:1"'),
    ]
    assert _completions(shell_with_matcher, "%lamina run Pho") == [(12, 15, '"Photo Stylizer"')]
    assert _completions(shell_with_matcher, "%lamina ") == [(8, 8, s) for s in SUBCOMMANDS]


def test_the_matcher_leaves_other_lines_to_ipython(
    session: Session, shell_with_matcher: InteractiveShell
) -> None:
    _cache(session)
    assert "print" in [t for _, _, t in _completions(shell_with_matcher, "prin")]
    # on a %lamina line with completions of its own, only those are offered
    assert _completions(shell_with_matcher, "%lamina ru") == [(8, 10, "run"), (8, 10, "runs")]


def test_an_app_listed_without_parameters_reads_as_missing(
    session: Session, shell_with_matcher: InteractiveShell
) -> None:
    """No key here, so the background fetch cannot even start: the cache alone answers."""
    _cache(session, with_parameters=False)
    params = CachedAppParameters(session)
    assert list(params) == APPS and len(params) == len(APPS)
    with pytest.raises(KeyError):
        params["Photo Stylizer"]
    assert _completions(shell_with_matcher, '%lamina run "Photo Stylizer" Sty') == []
    _cache(session)  # once the parameters are cached, the same Tab finds them
    assert _completions(shell_with_matcher, '%lamina run "Photo Stylizer" Sty') == [
        (29, 32, "Style=")
    ]


def test_a_cache_miss_fetches_the_parameters_in_the_background(sandbox_env: Any) -> None:
    session = Session()
    shell = InteractiveShell.instance()
    matcher = ipython_matcher(session)
    shell.Completer.custom_matchers.append(matcher)
    text = '%lamina run "Text to Image" Sty'
    try:
        first = [t for _, _, t in _completions(shell, text)]
        assert "Style=" not in first  # the first Tab only starts the fetches
        deadline = time.monotonic() + 30
        while "Style=" not in [t for _, _, t in _completions(shell, text)]:
            assert time.monotonic() < deadline, "the parameters never arrived"
            time.sleep(0.05)
        assert session.cached_app("Text to Image") is not None
    finally:
        shell.Completer.custom_matchers.remove(matcher)
        session.close()
