"""Help texts of ``%lamina``: the overview (``%lamina``, ``%lamina help`` and ``%lamina?``) and
each ``SUB --help``.

Every line of an ``Examples:`` block is a command that works as written against the sandbox
(``tests/magics/test_help_examples.py`` runs them all, in order, in a real shell), given what
the overview's examples assume: a picture ``me.jpg`` in the notebook's folder, ``img`` a PIL
image and ``url`` the http(s) URL of a picture. A ``%%lamina`` example's cell body is the
indented lines right below it.
"""

from __future__ import annotations

__all__ = ["EXAMPLES_NOTE", "HELP", "SUBCOMMANDS", "SUMMARIES", "USAGE", "examples", "usage"]

USAGE: dict[str, str] = {
    "login": "%lamina login [--save]",
    "sandbox": "%lamina sandbox [--if-no-key] [--stop] [--time-scale X]",
    "apps": "%lamina apps [WORDS ...] [--limit N] [-o VAR]",
    "info": "%lamina info APP",
    "run": "%lamina run APP [Name=value ...] [variant=N] [--reuse] [--fresh] [--no-wait] "
    "[--no-raise] [--timeout S] [--webhook URL] [-o VAR]",
    "grid": "%lamina grid APP --x AXIS [--y AXIS] [--z AXIS] [Name=value ...] [variant=N] "
    "[--fresh] [--yes] [--no-wait] [-o VAR]",
    "estimate": "%lamina estimate APP [Name=value ...] [-o VAR]",
    "status": "%lamina status ID",
    "resume": "%lamina resume ID [--no-raise] [-o VAR]",
    "cancel": "%lamina cancel ID",
    "upload": "%lamina upload PATH [-o VAR]",
    "runs": "%lamina runs [--status S] [--app APP] [--since WHEN] [--limit N] [--offset K] "
    "[-o VAR]",
    "history": "%lamina history [WORDS ...] [--app APP] [--status S] [--since WHEN] "
    "[--starred] [--limit N] [--offset K] [-o VAR]",
    "star": "%lamina star ID [--off]",
    "note": '%lamina note ID "TEXT"',
    "export": "%lamina export [GRID_ID | WORDS ...] FILE.html [--app APP] [--status S] "
    "[--since WHEN] [--starred] [--limit N]",
    "save": "%lamina save ID [FOLDER]",
    "doctor": "%lamina doctor",
    "widget": "%lamina widget APP [-o VAR]",
    "help": "%lamina help [SUBCOMMAND]",
}

SUBCOMMANDS: tuple[str, ...] = tuple(USAGE)

SUMMARIES: dict[str, str] = {
    "login": "enter the API key (masked); --save stores it in ~/.lamina/config.json",
    "sandbox": "start the offline sandbox (simulated results) and use it; --stop ends it",
    "apps": "list apps, or those matching every one of WORDS",
    "info": "show an app's parameters: type, options, default, description",
    "run": "run an app with Name=value inputs; waits and shows the outputs",
    "grid": "run an app over a grid of values (X/Y/Z plot), priced before it starts",
    "estimate": "what one run of an app costs, and the workspace's balance",
    "status": "show an execution (also one from an earlier kernel)",
    "resume": "reattach to an execution and wait for it",
    "cancel": "cancel a run at the service (it stops producing and billing)",
    "upload": "upload a local file (or a picture object) and print its URL for url inputs",
    "runs": "list runs at the service, also those started elsewhere",
    "history": "list past executions from the local journal, with search and filters",
    "star": "star a run in the journal (--off removes the star)",
    "note": "attach a note to a run in the journal",
    "export": "write a grid or matching runs as one self-contained HTML file",
    "save": "download an execution's outputs with a manifest",
    "doctor": "check widgets, key source (never the key), service reachability, journal",
    "widget": "open the interactive LaminaApp widget for an app",
    "help": "this overview, or the help of one subcommand",
}

_ID = """\
  ID              a run's id, or the first few characters of it (%lamina history shows
                  them); any unique beginning works"""

_WHEN = """\
  --since WHEN    only runs started since WHEN: 30m, 2h, 3d, 1w (ago), or a date
                  (2025-06-01, 2025-06-01T14:00)"""

_DETAILS: dict[str, str] = {
    "login": """\
Prompts for the key without echoing it and keeps it in memory for this kernel.
  --save          also write ~/.lamina/config.json (mode 0600), as Lamina's CLI does
Other ways to give the key: the LAMINA_API_KEY environment variable, or
%config LaminaMagics.api_key = "lma_..." (never printed).

Examples:
  %lamina login""",
    "sandbox": """\
Starts the embedded sandbox server on 127.0.0.1 and points this session at it.
Results are simulated (generated placeholder images, videos and text); nothing is billed.
  --if-no-key     use the real service when a key is configured (LAMINA_API_KEY,
                  ~/.lamina/config.json, %lamina login); start the sandbox only without one
  --time-scale X  multiply every simulated duration by X (0.1 = ten times faster)
  --stop          stop the sandbox and go back to the configured service

Examples:
  %lamina sandbox --if-no-key
  %lamina sandbox --stop
  %lamina sandbox --time-scale 0.1""",
    "apps": """\
  WORDS           only apps whose name or description has every one of the words, in
                  any order; case and accents are ignored, a word may be the start of a
                  longer one and its final s or e is optional ("photo style" finds Photo
                  Stylizer). The service's own search is asked too; what it adds comes last.
  --limit N       at most N apps
  -o VAR          also store the list of App objects in the variable VAR

Examples:
  %lamina apps
  %lamina apps photo style
  %lamina apps video --limit 3 -o found""",
    "info": """\
  APP             an app name (quote it if it has spaces) or an app id
Parameters marked required have no default and must be given to run.

Examples:
  %lamina info "Text to Image\"""",
    "run": """\
  APP             an app name (quote it if it has spaces) or an app id
  Name=value      one input; quote the pair when the name or value has spaces:
                  "Aspect Ratio=16:9"  'Style=Disney / Pixar'  Prompt={my_prompt}
                  {var} and $var expand from your variables after the line is split,
                  so a value with spaces stays one value. A value that is exactly {var}
                  keeps the object: Upload={img} uploads a PIL image, bytes or a Path.
  Upload=@PATH    a local file for a url input: uploaded (once per content) and its URL
                  used; PATH is relative to the notebook's folder (a path held in a
                  variable: Upload=@{path}); @@ is a literal @
  Name=[...]      several values for a parameter that takes many (Mood Board's
                  "Reference Images"), as a JSON list: "Reference Images=[\\"@a.jpg\\",
                  \\"https://...\\"]"; a Python list works too: "Reference Images={urls}"
  variant=N       ask for sample N of these inputs (0 is the plain run): reused when the
                  journal has it, else run and journaled as sample N
  --reuse         hand back an identical completed run from the journal instead of
                  paying for it again (nothing is sent)
  --fresh         always run, as the next sample of these inputs
  --no-wait       return a handle at once; its display keeps updating
  --no-raise      a failed run does not fail the cell (Run All goes on); the default is
                  %config LaminaMagics.raise_on_failure = True
  --timeout S     stop waiting after S seconds (the run goes on; %lamina resume ID)
  --webhook URL   ask the service to POST the result to URL (http or https)
  -o VAR          also store the result in the variable VAR (it is also in _)
Ctrl-C (the kernel's Interrupt) stops waiting, never the run: the cell ends with
KeyboardInterrupt so Run All stops, and the message says how to cancel or resume it.
Cell form, for long text: the cell body is the value of the parameter named by --param
(taken literally, minus one trailing newline).

Examples:
  %lamina run "Text to Image" "Prompt=a lighthouse at dawn" Style=Watercolor -o first
  %lamina run "Text to Image" "Prompt=a lighthouse at dawn" Style=Watercolor --reuse
  %lamina run "Text to Image" "Prompt=a lighthouse at dawn" Style=Watercolor variant=1
  %lamina run "Photo Stylizer" Upload=@me.jpg "Style=Disney / Pixar"
  %lamina run "Photo Stylizer" Upload={img} Style=Ghibli --no-wait -o job
  %lamina run "Mood Board" "Reference Images=[\\"@me.jpg\\", \\"{url}\\"]" "Title=Moods"
  %%lamina run "Product Copywriter" --param Product "Tone=Playful"
  A hand-thrown ceramic mug, speckled glaze,
  holds 350 ml, dishwasher safe.""",
    "grid": """\
  APP             an app name or id
  --x AXIS        the columns: a parameter and its values, as
                  Style                      every option of an options parameter
                  "Style=Anime,Watercolor"   these options (commas)
                  "Prompt=a fox|a lighthouse" these texts ("|" between them)
                  "Prompt:fox=cat,owl"       search-and-replace in the prompt: the first
                                             column keeps "fox", the next ones say cat, owl
  --y AXIS        the rows;  --z AXIS  one panel per value (small multiples)
  Name=value      inputs every cell shares (the legend lists them); @PATH uploads
  variant=N       sample N of every cell;  --fresh  new samples of every cell
Before anything is sent every cell is validated, and the run count, the cells answered
by identical runs in the journal (reused, free) and the estimated credits are shown. More
new runs than %config LaminaMagics.confirm_over (default 10) asks "Start N runs? [y/N]";
where nobody can answer (nbclient, a script) the grid is refused: add --yes.
  --yes           start without asking
  --no-wait       return the grid at once; its display fills in as cells finish
  --resume ID     a journaled grid (also from an earlier kernel): drawn from the journal,
                  running cells watched, only the cells that never started are run
  --retry-failed  with --resume: run the failed and cancelled cells again
  -o VAR          also store the grid (a GridRun: .cells, .export(path), .extend(...))

Examples:
  %lamina grid "Text to Image" --x "Style=Anime,Watercolor" --y "Prompt=a fox|a lighthouse" -o g
  %lamina grid --resume {g.grid_id}
  %lamina grid "Text to Image" --x "Prompt:fox=cat,owl" "Prompt=a fox at night" --yes
  %lamina export {g.grid_id} fox-grid.html""",
    "estimate": """\
  APP             an app name or id
  Name=value      inputs, checked before anything is sent (the price depends on the app)
  -o VAR          also store the Estimate (expected, minimum, maximum, balance)
Only the /v1 edition of the service gives estimates.

Examples:
  %lamina estimate "Text to Image"
  %lamina estimate "Photo Stylizer" Upload=@me.jpg -o price""",
    "status": f"""\
{_ID}

Examples:
  %lamina run "Text to Image" "Prompt=a quiet harbour" -o harbour
  %lamina status {{harbour.execution_id[:8]}}""",
    "resume": f"""\
{_ID}; also one started by an earlier kernel
  --no-raise      a failed run does not fail the cell
  -o VAR          also store the result in the variable VAR

Examples:
  %lamina run "Text to Image" "Prompt=a slow tide" --no-wait -o tide
  %lamina resume {{tide.execution_id}}""",
    "cancel": f"""\
{_ID}
The run stops at the service: outputs not made yet end cancelled and it spends no more
credits. A run that already ended keeps its state. Only the /v1 edition can cancel.

Examples:
  %lamina run "Image to Video" Upload={{url}} --no-wait -o clip
  %lamina cancel {{clip.execution_id}}""",
    "upload": """\
  PATH            a local file (a picture, video or sound), relative to the notebook's
                  folder, or {var} holding a PIL image, bytes, a numpy array or a Path
  -o VAR          also store the URL in the variable VAR
Prints the URL to pass to url inputs; the same content is uploaded only once. In run and
grid lines Upload=@PATH does this for you. Only the /v1 edition takes uploads.

Examples:
  %lamina upload me.jpg -o photo_url
  %lamina upload {img}""",
    "runs": f"""\
Runs as the service lists them, newest first: also those started in the web app, the
CLI or on another machine (the journal only knows this machine's).
  --status S      queued, running, completed, failed or cancelled
  --app APP       only runs of APP (name or id)
{_WHEN}
  --limit N       at most N runs (default 25, at most 100)
  --offset K      skip the K newest
  -o VAR          also store the RunPage
Only the /v1 edition lists runs.

Examples:
  %lamina runs --limit 5
  %lamina runs --status completed --app "Text to Image" --since 1d""",
    "history": f"""\
The local journal: every run this machine started, newest first, 20 at a time. Pictures
are the thumbnails kept when each run ended: they show offline, also for expired links.
  WORDS           only runs whose inputs or app name contain every word
  --app APP       only runs of APP (name or id)
  --status S      one status or several: completed,failed
{_WHEN}
  --starred       only starred runs (%lamina star ID)
  --limit N       rows per page (default 20)
  --offset K      skip the K newest matching runs (the "N more" line says how)
  -o VAR          also store the rows (a pandas DataFrame when pandas is installed)
Each row: a short id (hover for the full one; its first characters work wherever an ID
is asked), what changed since the app's previous run, the star and note, and "use these
inputs": the %lamina run line and the widget's value.

Examples:
  %lamina history
  %lamina history lighthouse --app "Text to Image" --since 2h
  %lamina history --status completed,failed --starred --limit 5
  %lamina history --offset 20""",
    "star": f"""\
{_ID}
  --off           remove the star

Examples:
  %lamina run "Text to Image" "Prompt=a keeper" -o keeper
  %lamina star {{keeper.execution_id[:8]}}
  %lamina star {{keeper.execution_id[:8]}} --off""",
    "note": f"""\
{_ID}
  TEXT            the note (quote it); "" removes it

Examples:
  %lamina run "Text to Image" "Prompt=a keeper" -o keeper
  %lamina note {{keeper.execution_id[:8]}} "best light so far"
  %lamina note {{keeper.execution_id[:8]}} \"\"""",
    "export": """\
One HTML file with the pictures embedded and every run's inputs: it opens from disk, in
VS Code or on GitHub Pages, with no kernel.
  GRID_ID         a grid (its id from %lamina grid; a unique beginning works): the grid
                  with its legend and its manifest
  WORDS           else the journal's runs matching the words (as %lamina history)
  FILE.html       where to write (overwritten)
  --app, --status, --since, --starred, --limit N   as in %lamina history

Examples:
  %lamina run "Text to Image" "Prompt=a lighthouse at dawn" -o first
  %lamina export lighthouse lighthouses.html
  %lamina export all-runs.html --since 1d""",
    "save": """\
  ID              an execution id (a unique beginning works)
  FOLDER          the folder to write into; a manifest.json there lists every file
                  with its output label, URL and the run's inputs

Examples:
  %lamina run "Text to Image" "Prompt=a red kite" -o kite
  %lamina save {kite.execution_id} kite-files""",
    "doctor": """\
Shows ipywidgets/jupyterlab_widgets versions, whether a widget front end is present,
where the key comes from (never the key), whether the base URL answers, the API edition,
the journal path and how sandbox pictures reach the browser.

Examples:
  %lamina doctor""",
    "widget": """\
  APP             an app name or id
  -o VAR          also store the widget in the variable VAR

Examples:
  %lamina widget "Text to Image" -o w""",
    "help": """\
  SUBCOMMAND      show the detailed help of one subcommand (same as SUBCOMMAND --help)

Examples:
  %lamina help grid""",
}

#: What the examples assume besides a Lamina service (or the sandbox).
EXAMPLES_NOTE = (
    "The examples assume a picture me.jpg in the notebook's folder, img a PIL image and url "
    "the http(s) URL of a picture."
)


def usage(sub: str | None, full: bool = False) -> str:
    """The usage line of ``sub`` (``full``: with its option details); the overview for None."""
    if sub is None or sub not in USAGE:
        return HELP
    if sub == "run":
        line = USAGE["run"] + "\n       %%lamina run APP --param NAME [Name=value ...]"
    else:
        line = USAGE[sub]
    if not full:
        return line
    summary = SUMMARIES[sub]
    return f"{line}\n\n{summary[:1].upper()}{summary[1:]}.\n{_DETAILS[sub]}"


def examples(text: str) -> list[tuple[str, str | None]]:
    """The example commands of a help text, in order: ``(line, cell body or None)``.

    An example is a line of an ``Examples:`` block starting with ``%lamina`` or
    ``%%lamina`` (its cell body: the indented lines below it that are not commands).
    """
    found: list[tuple[str, str | None]] = []
    lines = text.splitlines()
    in_block = False
    i = 0
    while i < len(lines):
        raw = lines[i]
        stripped = raw.strip()
        if stripped == "Examples:":
            in_block = True
        elif in_block and not raw.startswith(" "):
            in_block = bool(stripped == "")
        elif in_block and stripped.startswith("%%lamina "):
            body = []
            while i + 1 < len(lines) and lines[i + 1].startswith("  "):
                nxt = lines[i + 1].strip()
                if not nxt or nxt.startswith("%"):
                    break
                body.append(nxt)
                i += 1
            found.append((_command(stripped[len("%%lamina ") :]), "\n".join(body) + "\n"))
        elif in_block and stripped.startswith("%lamina"):
            found.append((_command(stripped[len("%lamina") :].strip()), None))
        i += 1
    return found


def _command(line: str) -> str:
    """The line without a trailing ``# comment`` (outside quotes)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"':
                continue
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] == " "):
            return line[:i].rstrip()
    return line


def _overview() -> str:
    width = max(len(s) for s in SUBCOMMANDS)
    rows = "\n".join(f"  {s:<{width}}  {SUMMARIES[s]}" for s in SUBCOMMANDS)
    return f"""\
Run Lamina AI apps from the notebook.

Subcommands:
{rows}

Each subcommand has --help, e.g. %lamina run --help.

Examples:
  %lamina sandbox                      # offline, simulated results, no key needed
  %lamina apps photo style
  %lamina info "Photo Stylizer"
  %lamina run "Photo Stylizer" Upload=@me.jpg "Style=Disney / Pixar"
  %lamina run "Photo Stylizer" Upload={{img}} Style=Ghibli --no-wait -o job
  %lamina grid "Text to Image" --x "Style=Anime,Watercolor" --y "Prompt=a fox|a lighthouse"
  %lamina history fox

{EXAMPLES_NOTE}
Quoting follows the shell: quote a Name=value pair that contains spaces. {{var}} and $var
expand from your variables after the line is split. A failed run fails its cell, and so
does a mistake in the line (--no-raise lets a failed run pass). Settings: %config
LaminaMagics (api_key, base_url, api_edition, confirm_over, raise_on_failure, timeout,
embed_max_px, rate_limit, journal_path, ...)."""


HELP = _overview()
