"""Static bash, zsh and fish completion scripts generated from the Typer app.

Static scripts complete without starting Python (instant on a slow machine) and
`tests/cli/test_completions.py` fails when the committed ones fall behind the app.
Regenerate with `python -m percmusic_cli.cli.completions completions/`."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer.main


def metric_names() -> list[str]:
    """The metric (and loss) names: the one place to point at the metric registry."""
    from percmusic_cli import api

    return list(api.metric_names())


def value_words() -> dict[str, list[str]]:
    """Option -> the names it takes, from the core's own lists (never retyped here)."""
    from percmusic_cli import api
    from percmusic_cli.cli.figures import FORMATS
    from percmusic_cli.config import DEVICES, PRESETS

    return {
        "--metric": [*metric_names(), "all"],
        "--loss": metric_names(),
        "--preset": list(PRESETS),
        "--split": list(api.split_methods()),
        "--device": list(DEVICES),
        "--format": list(FORMATS),
    }


# Stored ids, read at TAB time by `percmusic __complete-ids KIND STORE` (cli/entry.py).
ID_OPTIONS = {"--model": "models"}
# A command's positional argument, by its name -> the ids it takes. Derived per command in
# `tree`, so a new command with a `runs` argument completes ids without a line here.
ID_ARGUMENTS = {"run": "runs", "runs": "runs", "ids": "runs models"}

HEADER = (
    "# percmusic {shell} completion: generated from the app by `make completions`; do not edit.\n"
)


@dataclass(frozen=True)
class Node:
    path: tuple[str, ...]  # () for the root, ("distances",), ("distances", "stats")
    help: str
    options: tuple[tuple[str, bool, str], ...]  # (flag, takes a value, help)
    children: tuple[str, ...]
    ids: str = ""  # what its positional arguments complete: "runs", "runs models" or none


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0].replace("'", "").replace('"', "") if text else ""


def _options(command: Any) -> tuple[tuple[str, bool, str], ...]:
    out = []
    for param in command.params:
        if param.param_type_name != "option" or getattr(param, "hidden", False):
            continue
        takes_value = not (param.is_flag or param.count)
        for flag in [*param.opts, *param.secondary_opts]:
            if flag.startswith("--install") or flag.startswith("--show-completion"):
                continue
            out.append((flag, takes_value, _first_line(param.help)))
    out.append(("--help", False, "Show help and exit."))
    return tuple(out)


def _argument_ids(command: Any) -> str:
    kinds = [
        ID_ARGUMENTS[p.name]
        for p in command.params
        if p.param_type_name == "argument" and p.name in ID_ARGUMENTS
    ]
    return " ".join(dict.fromkeys(" ".join(kinds).split()))


def tree() -> list[Node]:
    from percmusic_cli.cli.app import app

    nodes: list[Node] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        commands = getattr(command, "commands", {}) or {}
        children = tuple(sorted(n for n, c in commands.items() if not c.hidden))
        nodes.append(
            Node(
                path, _first_line(command.help), _options(command), children, _argument_ids(command)
            )
        )
        for name in children:
            walk(command.commands[name], (*path, name))

    walk(typer.main.get_command(app), ())
    return nodes


def _bash_ids(kinds: str) -> str:
    # The store is the one on the command line, else percmusic's own default
    # ($PERCMUSIC_STORE, ./store); errors and a missing percmusic give no words.
    return " ".join(
        f'$(percmusic __complete-ids {kind} "$store" 2>/dev/null)' for kind in kinds.split()
    )


def _bash_function(nodes: list[Node]) -> str:
    valued = sorted({f for n in nodes for f, v, _ in n.options if v})
    values = value_words()
    lines = [
        "_percmusic() {",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '    local path="" store="" w i skip=0',
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        w="${COMP_WORDS[i]}"',
        "        if ((skip)); then skip=0; continue; fi",
        '        case "$w" in',
        '            --store) skip=1; store="${COMP_WORDS[i+1]}" ;;',
        '            --store=*) store="${w#--store=}" ;;',
        f"            {'|'.join(valued)}) skip=1 ;;",
        "            -*) ;;",
        '            *) path="$path $w" ;;',
        "        esac",
        "    done",
        '    case "$prev" in',
    ]
    reply = '        {}) COMPREPLY=($(compgen -W "{}" -- "$cur")); return ;;'
    lines += [reply.format(flag, " ".join(names)) for flag, names in values.items()]
    lines += [reply.format(flag, _bash_ids(kinds)) for flag, kinds in ID_OPTIONS.items()]
    lines += [
        f'        {"|".join(valued)}) COMPREPLY=($(compgen -f -- "$cur")); return ;;',
        "    esac",
        '    local words=""',
        '    case "${path# }" in',
    ]
    for node in sorted(nodes, key=lambda n: -len(n.path)):
        name = " ".join(node.path)
        words = " ".join([*node.children, *(f for f, _, _ in node.options)])
        if node.ids:
            words += " " + _bash_ids(node.ids)
        # A leaf also matches when positional arguments follow it (`results show RUN`).
        pattern = f'"{name}"|"{name} "*' if node.path and not node.children else f'"{name}"'
        lines.append(f'        {pattern}) words="{words}" ;;')
    lines += [
        "    esac",
        '    COMPREPLY=($(compgen -W "$words" -- "$cur"))',
        "}",
        "complete -o default -F _percmusic percmusic",
    ]
    return "\n".join(lines) + "\n"


def bash(nodes: list[Node]) -> str:
    return HEADER.format(shell="bash") + _bash_function(nodes)


def zsh(nodes: list[Node]) -> str:
    # zsh runs the bash function through bashcompinit: one completion logic to keep true.
    return (
        HEADER.format(shell="zsh") + "#compdef percmusic\n"
        "autoload -U +X bashcompinit && bashcompinit\n" + _bash_function(nodes)
    )


FISH_STORE = """function __percmusic_store --description 'the --store given on the command line'
    set -l words (commandline -opc)
    set -l i (contains -i -- --store $words)
    and test (count $words) -gt $i
    and echo $words[(math $i + 1)]
end"""


def _fish_ids(kinds: str) -> str:
    calls = " ".join(
        f"(percmusic __complete-ids {kind} (__percmusic_store) 2>/dev/null)"
        for kind in kinds.split()
    )
    return f'"{calls}"'


def _fish_value(flag: str, takes_value: bool) -> str:
    if not takes_value:
        return ""
    if flag in ID_OPTIONS:
        return " -r -f -a " + _fish_ids(ID_OPTIONS[flag])
    names = value_words().get(flag)
    return f" -r -f -a '{' '.join(names)}'" if names else " -r -F"


def fish(nodes: list[Node]) -> str:
    lines = [HEADER.format(shell="fish").rstrip(), FISH_STORE, "complete -c percmusic -f"]
    for node in nodes:
        if node.path:
            parent = node.path[:-1]
            cond = (
                "__fish_use_subcommand"
                if not parent
                else f"__fish_seen_subcommand_from {parent[-1]}"
            )
            lines.append(f"complete -c percmusic -n '{cond}' -a {node.path[-1]} -d '{node.help}'")
        cond = (
            "__fish_use_subcommand"
            if not node.path
            else f"__fish_seen_subcommand_from {node.path[-1]}"
        )
        if node.ids:
            ids = _fish_ids(node.ids)
            lines.append(f"complete -c percmusic -n '{cond}' -a {ids}")
        for flag, takes_value, text in node.options:
            kind = "-l " + flag[2:] if flag.startswith("--") else "-s " + flag[1:]
            value = _fish_value(flag, takes_value)
            lines.append(f"complete -c percmusic -n '{cond}' {kind}{value} -d '{text}'")
    return "\n".join(lines) + "\n"


SCRIPTS = {"percmusic.bash": bash, "_percmusic": zsh, "percmusic.fish": fish}


def render_all() -> dict[str, str]:
    nodes = tree()
    return {name: make(nodes) for name, make in SCRIPTS.items()}


def main(argv: list[str]) -> int:
    target = Path(argv[0] if argv else "completions")
    target.mkdir(parents=True, exist_ok=True)
    for name, text in render_all().items():
        (target / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
