"""Help texts of ``%lamina``: the overview shown by ``%lamina?`` and each ``SUB --help``."""

from __future__ import annotations

__all__ = ["HELP", "SUBCOMMANDS", "SUMMARIES", "USAGE", "usage"]

USAGE: dict[str, str] = {
    "login": "%lamina login [--save]",
    "sandbox": "%lamina sandbox [--if-no-key] [--stop] [--time-scale X]",
    "apps": "%lamina apps [SEARCH] [--limit N] [-o VAR]",
    "info": "%lamina info APP",
    "run": "%lamina run APP [Name=value ...] [--webhook URL] [--no-wait] [--timeout S] [-o VAR]",
    "status": "%lamina status ID",
    "resume": "%lamina resume ID [-o VAR]",
    "history": "%lamina history [--app APP] [--limit N] [-o VAR]",
    "save": "%lamina save ID [FOLDER]",
    "doctor": "%lamina doctor",
    "widget": "%lamina widget APP [-o VAR]",
    "help": "%lamina help [SUBCOMMAND]",
}

SUBCOMMANDS: tuple[str, ...] = tuple(USAGE)

SUMMARIES: dict[str, str] = {
    "login": "enter the API key (masked); --save stores it in ~/.lamina/config.json",
    "sandbox": "start the offline sandbox (simulated results) and use it; --stop ends it",
    "apps": "list apps, optionally matching SEARCH",
    "info": "show an app's parameters: type, options, default, description",
    "run": "run an app with Name=value inputs; waits and shows the outputs",
    "status": "show an execution (also one from an earlier kernel)",
    "resume": "reattach to an execution and wait for it",
    "history": "list past executions from the journal",
    "save": "download an execution's outputs with a manifest",
    "doctor": "check widgets, key source (never the key), service reachability, journal",
    "widget": "open the interactive LaminaApp widget for an app",
    "help": "this overview, or the help of one subcommand",
}

_DETAILS: dict[str, str] = {
    "login": """\
Prompts for the key without echoing it and keeps it in memory for this kernel.
  --save          also write ~/.lamina/config.json (mode 0600), as Lamina's CLI does
Other ways to give the key: the LAMINA_API_KEY environment variable, or
%config LaminaMagics.api_key = "lma_..." (never printed).""",
    "sandbox": """\
Starts the embedded sandbox server on 127.0.0.1 and points this session at it.
Results are simulated (generated placeholder images, videos and text); nothing is billed.
  --if-no-key     use the real service when a key is configured (LAMINA_API_KEY,
                  ~/.lamina/config.json, %lamina login); start the sandbox only without one
  --time-scale X  multiply every simulated duration by X (0.1 = ten times faster)
  --stop          stop the sandbox and go back to the configured service""",
    "apps": """\
  SEARCH          only apps whose name or description contains SEARCH
  --limit N       at most N apps
  -o VAR          also store the list of App objects in the variable VAR""",
    "info": """\
  APP             an app name (quote it if it has spaces) or an app id
Parameters marked required have no default and must be given to run.""",
    "run": """\
  APP             an app name (quote it if it has spaces) or an app id
  Name=value      one input; quote the pair when the name or value has spaces:
                  "Aspect Ratio=16:9"  'Style=Disney / Pixar'  Prompt={my_prompt}
                  {var} and $var expand from your variables, after the line is split,
                  so a value with spaces stays one value.
  --webhook URL   ask the service to POST the result to URL (http or https)
  --no-wait       return a handle at once; its display keeps updating
  --timeout S     stop waiting after S seconds (the run goes on; %lamina resume ID)
  -o VAR          also store the execution in the variable VAR (it is also in _)
Cell form, for long text: the cell body is the value of the parameter named by --param
(taken literally, minus one trailing newline):
  %%lamina run "Story Writer" --param Prompt "Tone=Playful"
  Once upon a time...""",
    "status": """\
  ID              an execution id (see %lamina history)""",
    "resume": """\
  ID              an execution id, also one started by an earlier kernel
  -o VAR          also store the execution in the variable VAR""",
    "history": """\
  --app APP       only executions of APP (name or id)
  --limit N       at most N rows, newest first
  -o VAR          also store the rows (a pandas DataFrame when pandas is installed)""",
    "save": """\
  ID              an execution id
  FOLDER          the folder to write into; a manifest.json there lists every file
                  with its output label, URL and the run's inputs""",
    "doctor": """\
Shows ipywidgets/jupyterlab_widgets versions, whether a widget front end is present,
where the key comes from (never the key), whether the base URL answers, the journal path.""",
    "widget": """\
  APP             an app name or id
  -o VAR          also store the widget in the variable VAR""",
    "help": """\
  SUBCOMMAND      show the detailed help of one subcommand (same as SUBCOMMAND --help)""",
}


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
    return f"{line}\n\n{SUMMARIES[sub].capitalize()}.\n{_DETAILS[sub]}"


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
  %lamina apps portrait
  %lamina info "Photo Stylizer"
  %lamina run "Photo Stylizer" "Image=https://example.com/me.jpg" "Style=Disney / Pixar"
  %lamina run "Photo Stylizer" Image={{url}} --no-wait -o job

Quoting follows the shell: quote a Name=value pair that contains spaces. {{var}} and $var
expand from your variables after the line is split. Settings: %config LaminaMagics
(api_key, base_url, poll_interval, timeout, embed_max_px, rate_limit, journal_path, ...)."""


HELP = _overview()
