"""The ``%lamina`` line parser, table-driven; variable expansion via a real shell."""

from __future__ import annotations

from typing import Any

import pytest

from lamina_notebook.errors import LaminaError
from lamina_notebook.magics.help import HELP, SUBCOMMANDS, USAGE, usage
from lamina_notebook.magics.parse import Command, CommandError, parse

# (line, cell, expected fields of the Command)
OK: list[tuple[str, str | None, dict[str, Any]]] = [
    ("", None, {"name": "help"}),
    ("help", None, {"name": "help"}),
    ("help run", None, {"name": "help", "topic": "run"}),
    ("--help", None, {"name": "help"}),
    ("login", None, {"name": "login", "save": False}),
    ("login --save", None, {"name": "login", "save": True}),
    ("sandbox", None, {"name": "sandbox", "stop": False, "time_scale": None}),
    ("sandbox --stop", None, {"name": "sandbox", "stop": True}),
    ("sandbox --time-scale 0.1", None, {"name": "sandbox", "time_scale": 0.1}),
    ("sandbox --time-scale=2", None, {"name": "sandbox", "time_scale": 2.0}),
    ("apps", None, {"name": "apps", "search": None, "limit": None}),
    (
        "apps portrait --limit 5 -o found",
        None,
        {"name": "apps", "search": "portrait", "limit": 5, "output_var": "found"},
    ),
    ('apps "photo style"', None, {"name": "apps", "search": "photo style"}),
    ("apps --limit=3", None, {"name": "apps", "limit": 3}),
    ("info 'Photo Stylizer'", None, {"name": "info", "app": "Photo Stylizer"}),
    (
        "info 3f2b8c1e-0000-4000-8000-000000000001",
        None,
        {"name": "info", "app": "3f2b8c1e-0000-4000-8000-000000000001"},
    ),
    (
        'run "Photo Stylizer" "Aspect Ratio=16:9" Prompt=cat',
        None,
        {
            "name": "run",
            "app": "Photo Stylizer",
            "wait": True,
            "inputs": {"Aspect Ratio": "16:9", "Prompt": "cat"},
        },
    ),
    (
        "run Stylizer 'Style=Disney / Pixar'",
        None,
        {"app": "Stylizer", "inputs": {"Style": "Disney / Pixar"}},
    ),
    ('run X "Prompt=a=b=c"', None, {"inputs": {"Prompt": "a=b=c"}}),
    ("run X Prompt=", None, {"inputs": {"Prompt": ""}}),
    ('run X Prompt="a cat\'s hat"', None, {"inputs": {"Prompt": "a cat's hat"}}),
    ('run X "Prompt=say \\"hi\\""', None, {"inputs": {"Prompt": 'say "hi"'}}),
    ("run Ünïcode Légende=日本語", None, {"app": "Ünïcode", "inputs": {"Légende": "日本語"}}),
    ('run X "Aspect Ratio =16:9"', None, {"inputs": {"Aspect Ratio": "16:9"}}),
    (
        "run X Prompt=hi --no-wait -o job",
        None,
        {"wait": False, "output_var": "job", "inputs": {"Prompt": "hi"}},
    ),
    (
        "run X --webhook https://hook.example/in Prompt=hi",
        None,
        {"webhook": "https://hook.example/in", "inputs": {"Prompt": "hi"}},
    ),
    ("run X --timeout 90 Seed=-3", None, {"timeout": 90.0, "inputs": {"Seed": "-3"}}),
    ("run X --output=res Prompt=1", None, {"output_var": "res"}),
    ("run -- -weird-app Prompt=1", None, {"app": "-weird-app", "inputs": {"Prompt": "1"}}),
    ("run X", None, {"app": "X", "inputs": {}}),
    (
        "run 'Story Writer' --param Prompt Tone=Playful",
        "Once upon a time\nthe end\n",
        {
            "app": "Story Writer",
            "cell_param": "Prompt",
            "inputs": {"Tone": "Playful", "Prompt": "Once upon a time\nthe end"},
        },
    ),
    ("run X --param Prompt", "keep two\n\n", {"inputs": {"Prompt": "keep two\n"}}),
    ("run X --param Prompt", "windows\r\n", {"inputs": {"Prompt": "windows"}}),
    (
        "run X --param 'Long Text'",
        "{not expanded} $nor_this",
        {"inputs": {"Long Text": "{not expanded} $nor_this"}},
    ),
    ("status abc-123", None, {"name": "status", "execution_id": "abc-123"}),
    ("resume abc-123 -o r", None, {"name": "resume", "execution_id": "abc-123", "output_var": "r"}),
    ("history", None, {"name": "history", "app": None, "limit": None}),
    (
        'history --app "Photo Stylizer" --limit 10 -o h',
        None,
        {"name": "history", "app": "Photo Stylizer", "limit": 10, "output_var": "h"},
    ),
    ("save abc-123", None, {"name": "save", "execution_id": "abc-123", "folder": None}),
    ("save abc-123 'out dir/run 1'", None, {"folder": "out dir/run 1"}),
    ("doctor", None, {"name": "doctor"}),
    (
        "widget 'Photo Stylizer' -o w",
        None,
        {"name": "widget", "app": "Photo Stylizer", "output_var": "w"},
    ),
    ("apps photo style", None, {"name": "apps", "search": "photo style"}),
    (
        "run X Prompt=a variant=2 --reuse --no-raise",
        None,
        {"inputs": {"Prompt": "a", "variant": "2"}, "reuse": True, "raise_on_failure": False},
    ),
    ("run X --fresh", None, {"fresh": True, "reuse": False, "raise_on_failure": None}),
    ("run X Upload=@me.jpg", None, {"inputs": {"Upload": "@me.jpg"}}),
    (
        'grid "Text to Image" --x Style --y "Prompt=a fox|a lighthouse" Aspect=1:1 --yes -o g',
        None,
        {
            "name": "grid",
            "app": "Text to Image",
            "x": "Style",
            "y": "Prompt=a fox|a lighthouse",
            "z": None,
            "inputs": {"Aspect": "1:1"},
            "yes": True,
            "output_var": "g",
        },
    ),
    (
        "grid X --x=Style --z Seed --fresh --no-wait",
        None,
        {"z": "Seed", "fresh": True, "wait": False},
    ),
    ("grid --resume g-12ab", None, {"name": "grid", "grid_id": "g-12ab", "app": None}),
    ("grid --resume g-12ab --retry-failed", None, {"retry": True}),
    ("estimate X Prompt=a -o price", None, {"name": "estimate", "app": "X", "output_var": "price"}),
    ("cancel 1a2b", None, {"name": "cancel", "execution_id": "1a2b"}),
    ("upload ./me.jpg -o url", None, {"name": "upload", "source": "./me.jpg", "output_var": "url"}),
    (
        "runs --status failed --app X --since 2h --limit 5 --offset 10",
        None,
        {"status": "failed", "app": "X", "since": "2h", "limit": 5, "offset": 10},
    ),
    ("runs --offset 0", None, {"offset": 0}),
    (
        "history red fox --starred --status completed,failed --offset 20",
        None,
        {"search": "red fox", "starred": True, "status": "completed,failed", "offset": 20},
    ),
    ("star 1a2b --off", None, {"name": "star", "execution_id": "1a2b", "off": True}),
    ('note 1a2b "a keeper"', None, {"name": "note", "execution_id": "1a2b", "text": "a keeper"}),
    ('note 1a2b ""', None, {"text": ""}),
    ("note 1a2b two words", None, {"text": "two words"}),
    ("export g-12ab grid.html", None, {"name": "export", "search": "g-12ab", "path": "grid.html"}),
    ("export red fox foxes.html --since 1d", None, {"search": "red fox", "path": "foxes.html"}),
    ("export all.html", None, {"search": None, "path": "all.html"}),
    ("run --help", None, {"name": "run", "help": True}),
    ("apps -h", None, {"name": "apps", "help": True}),
    ("save --help", None, {"name": "save", "help": True}),
]


@pytest.mark.parametrize(("line", "cell", "expected"), OK, ids=[r[0] or "<empty>" for r in OK])
def test_parse_ok(line: str, cell: str | None, expected: dict[str, Any]) -> None:
    cmd = parse(line, cell)
    assert isinstance(cmd, Command)
    for name, value in expected.items():
        assert getattr(cmd, name) == value, name


# (line, cell, words the message or hint must contain)
BAD: list[tuple[str, str | None, list[str]]] = [
    ("fly", None, ["Unknown subcommand 'fly'", "Subcommands: login"]),
    ("runn X", None, ["Did you mean 'run'?"]),
    ("run", None, ["run needs the app first", "Usage: %lamina run APP"]),
    ("run Prompt=cat", None, ["run needs the app first"]),
    ("run X cat", None, ["Expected Name=value, got 'cat'", '"Aspect Ratio=16:9"']),
    ("run X Prompt=a cat", None, ["got 'cat'", 'quote the whole pair: "Prompt=a cat"']),
    ("run X 'Prompt=say \"hi\"' there", None, ["quote the whole pair: 'Prompt=say \"hi\" there'"]),
    ("run X =cat", None, ["no parameter name"]),
    ("run X Prompt=a Prompt=b", None, ["'Prompt' is given twice"]),
    ("run X Prompt=it's", None, ["No closing quotation", '"Prompt=a cat\'s hat"']),
    ("run X --nowait", None, ["Unknown option --nowait", "Did you mean --no-wait?"]),
    ("run X --webhook", None, ["--webhook needs a value"]),
    ("run X --no-wait=yes", None, ["--no-wait takes no value"]),
    ("run X --timeout soon", None, ["--timeout needs a positive number"]),
    ("run X --timeout -5", None, ["--timeout needs a positive number"]),
    ("run X --timeout inf", None, ["--timeout needs a positive number"]),
    ("run X -o 2fast", None, ["-o needs a Python variable name, got '2fast'"]),
    ("run X -o class", None, ["-o needs a Python variable name"]),
    ("run X --param Prompt", None, ["only works in a %%lamina cell"]),
    ("run X Tone=a", "body", ["Say which parameter the cell body fills", "--param Prompt"]),
    ("run X --param Prompt Prompt=x", "body", ["comes from the cell body"]),
    ("run X --param Prompt", "  \n", ["The cell is empty", "Prompt"]),
    ("", "body", ["%%lamina needs a subcommand"]),
    ("apps", "body", ["takes no cell body"]),
    ("apps --limit 0", None, ["--limit needs a positive whole number", "Usage: %lamina apps"]),
    ("apps --limit many", None, ["--limit needs a positive whole number"]),
    ("widget a b", None, ["Unexpected argument 'b'", "Quote values with spaces"]),
    ("info", None, ["info needs an app name or id", "%lamina apps lists them"]),
    ("info Photo Stylizer", None, ["Unexpected argument 'Stylizer'"]),
    ("status", None, ["status needs an execution id", "%lamina history lists them"]),
    ("save", None, ["save needs an execution id"]),
    ("save a b c", None, ["Unexpected argument 'c'"]),
    ("doctor now", None, ["Unexpected argument 'now' for doctor"]),
    ("login --force", None, ["Unknown option --force for login", "Options: --save"]),
    ("sandbox --time-scale 0", None, ["--time-scale needs a positive number"]),
    ("help fly", None, ["No help topic 'fly'"]),
    ("history --app", None, ["--app needs a value"]),
    ("history --app=", None, ["--app needs a non-empty value"]),
    ("history --offset -1", None, ["--offset needs a whole number from 0"]),
    ("grid X Style=Anime", None, ["A grid needs at least one axis", "--x Style"]),
    ("grid --x Style", None, ["grid needs the app first"]),
    ("grid --resume g-1 X", None, ["--resume picks the grid up as it was journaled"]),
    ("grid X --x Style", "body", ["takes no cell body"]),
    ("estimate", None, ["estimate needs the app first"]),
    ("cancel", None, ["cancel needs an execution id", "first few characters"]),
    ("upload", None, ["upload needs a file to upload"]),
    ("note 1a2b", None, ["note needs the text of the note", '"" removes the note']),
    ("star", None, ["star needs an execution id"]),
    ("export", None, ["export needs the file to write"]),
    ("runs --status", None, ["--status needs a value"]),
]


@pytest.mark.parametrize(("line", "cell", "words"), BAD, ids=[r[0] or "<empty>" for r in BAD])
def test_parse_errors_name_the_fix(line: str, cell: str | None, words: list[str]) -> None:
    with pytest.raises(CommandError) as info:
        parse(line, cell)
    err = info.value
    assert isinstance(err, LaminaError) and err.hint
    full = str(err)
    for word in words:
        assert word in full, (word, full)


def test_expand_runs_per_token_after_splitting_with_a_real_shell() -> None:
    """``Prompt={p}`` stays one value even when ``p`` has spaces and quotes."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.user_ns.update(p='a cat\'s "hat" and more', style="Disney / Pixar", n=3, hook="h")
    cmd = parse(
        'run "Photo Stylizer" Prompt={p} "Style=$style" Seed={n+1} -o {hook}_out',
        expand=shell.var_expand,
    )
    assert cmd.inputs == {
        "Prompt": 'a cat\'s "hat" and more',
        "Style": "Disney / Pixar",
        "Seed": "4",
    }
    assert cmd.output_var == "h_out"
    assert cmd.app == "Photo Stylizer"
    # An unknown variable is left as typed (IPython's rule), not an error.
    assert parse("run X Prompt={nope}", expand=shell.var_expand).inputs == {"Prompt": "{nope}"}


def test_whole_braced_values_keep_python_objects_where_objects_are_taken() -> None:
    """``Upload={img}`` keeps the image itself; strings and numbers expand as text; elsewhere
    (info, history...) every token is text."""
    from pathlib import Path

    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    image = object()
    urls = ["https://a.example/1.png", "https://a.example/2.png"]
    shell.user_ns.update(img=image, urls=urls, path=Path("me.jpg"), p="a fox", n=2)
    ns = dict(shell.user_ns)

    def resolve(expr: str) -> Any:
        return eval(expr, ns)

    cmd = parse(
        'run X Upload={img} "Reference Images={urls}" Prompt={p} Seed={n} Where={path} '
        "Prompt2=x{p}",
        expand=shell.var_expand,
        resolve=resolve,
    )
    assert cmd.inputs["Upload"] is image
    assert cmd.inputs["Reference Images"] is urls
    assert cmd.inputs["Where"] == Path("me.jpg")
    assert cmd.inputs["Prompt"] == "a fox" and cmd.inputs["Seed"] == "2"
    assert cmd.inputs["Prompt2"] == "xa fox"
    assert parse("upload {img}", expand=shell.var_expand, resolve=resolve).source is image
    assert parse("upload {p}", expand=shell.var_expand, resolve=resolve).source == "a fox"
    assert parse("history {p}", expand=shell.var_expand, resolve=resolve).search == "a fox"
    assert parse("run X Prompt={nope}", expand=shell.var_expand, resolve=resolve).inputs == {
        "Prompt": "{nope}"
    }
    calls: list[str] = []

    def counted(expr: str) -> Any:
        calls.append(expr)
        return eval(expr, ns)

    once = parse("run X Prompt={p.upper()}", expand=shell.var_expand, resolve=counted)
    assert once.inputs == {"Prompt": "A FOX"}
    assert calls == ["p.upper()"]  # a whole {expr} is evaluated once
    with pytest.raises(CommandError, match=r"A \{variable\} alone is not an input"):
        parse("run X {img}", expand=shell.var_expand, resolve=resolve)
    with pytest.raises(CommandError, match="needs text, not a Python object"):
        parse("run X --webhook {img}", expand=shell.var_expand, resolve=resolve)


def test_cell_body_is_not_expanded() -> None:
    cmd = parse(
        "run X --param Prompt Tone={p}", "{p} $p\n", expand=lambda t: t.replace("{p}", "EXPANDED")
    )
    assert cmd.inputs == {"Tone": "EXPANDED", "Prompt": "{p} $p"}


def test_expand_failure_is_a_command_error() -> None:
    def broken(token: str) -> str:
        raise KeyError(token)

    with pytest.raises(CommandError, match="Could not expand 'X'"):
        parse("run X Prompt=x", expand=broken)


def test_help_texts_cover_every_subcommand() -> None:
    for sub in SUBCOMMANDS:
        assert sub in HELP
        full = usage(sub, full=True)
        assert full.startswith(USAGE[sub]) and len(full.splitlines()) >= 3
    assert "%%lamina run APP --param NAME" in usage("run")
    assert usage(None) == HELP and usage("nope") == HELP
