"""``ghara``: one command for every job, declared as a console script in pyproject.toml.

Each sub-command is the ``main(argv)`` of the module that owns the job, so ``ghara extract
--help`` and ``python -m model.batch --help`` say the same thing and exit the same way.
``train.py`` and ``evaluate.py`` stay as the thin scripts the repository layout promises.

Exit codes, for every sub-command: 0 all good; 1 the job ran but some items failed (records,
tasks, tests of a model), each counted and reported; 2 unusable input or usage (a clear
one-line ``error:`` message, no traceback).
"""

from __future__ import annotations

import importlib
import sys

#: sub-command -> (module whose ``main(argv)`` runs it, one line of help)
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("model.training", "fine-tune the joint model from a config (train.py)"),
    "evaluate": ("model.evaluation", "score a model on Label Studio exports (evaluate.py)"),
    "extract": ("model.batch", "batch inference over articles: events, records, pre-annotations"),
    "incidents": ("model.incidents", "merge article records into incidents across sources"),
    "export": ("model.exports", "incidents to ACLED-style CSV and an Airwars-style table"),
    "report": ("model.report", "an RTL HTML page of records with their evidence"),
    "card": ("model.card", "write (and optionally publish) the model card"),
    "labelstudio": ("annotation.__main__", "Label Studio config, projects, import, export, convert"),
    "backend": ("model.backend", "serve the model to Label Studio as an ML backend"),
    "active": ("model.active", "the next articles to annotate (uncertainty + diversity)"),
    "demo": ("model.demo", "print the events and records a model finds in sample articles"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: ghara COMMAND [options]   (ghara COMMAND --help for its options)", "", "commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", "exit codes: 0 all good, 1 some items failed (reported), 2 unusable input or usage"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"error: unknown command {name!r}; one of: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    sys.argv = [f"ghara {name}", *rest]  # argparse names the sub-command in its messages
    result = module.main(rest)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
