"""Model card (README.md) for a trained ghara model, and an optional push to the Hub.

::

    python -m model.card --model runs/tiny --eval report.json
    HF_TOKEN=... python -m model.card --model runs/tiny --eval report.json \\
        --push-to-hub my-org/ghara-strikes --private

The card is built with ``huggingface_hub``'s ``ModelCard``/``ModelCardData``: its metadata
(``language: ar``, licence, ``base_model``, ``pipeline_tag: token-classification``, tags,
datasets) and a ``model-index`` made from the ``evaluate.py`` report (``EvalResult`` per
metric: strict entity, relation and event scores, exactly the report's numbers). The body
covers the label schema (the model's own, from its config.json), training data, usage
with ``StrikeExtractor``, intended use, limitations and ethical considerations.

Seeds: one trained model hides how much its scores move with the random seed. When the
model comes from ``train.py --seeds 1 2 3`` (``OUT/seed-N/best``), the card finds
``OUT/seeds_summary.json`` and adds the mean ± sd of the dev scores over the seeds
(``--seeds-summary FILE`` names another one; ``--seeds-summary none`` leaves it out).

Without ``--push-to-hub`` the card is only written (``MODEL/README.md`` or ``--out``). With
it, the model directory (card included) is uploaded with the token in ``HF_TOKEN``; the
token is never printed, and without one the command stops with a clear error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from annotation.schema import SCHEMA, Schema

from .config import MODEL_CONFIG_NAME, TRAIN_CONFIG_NAME
from .report_format import pct as _pct

__all__ = ["build_card", "eval_results_from_report", "main"]

DEFAULT_LICENSE = "apache-2.0"
#: the licence of a model whose backbone was trained on SaudiNewsNet (CC BY-NC-SA 4.0), as
#: ../shared/models/arabic-news-bert-mini was: its word pieces and embeddings are derived
#: from those texts, so the fine-tuned model inherits non-commercial, share-alike terms
NON_COMMERCIAL_LICENSE = "cc-by-nc-sa-4.0"
#: backbones known to be trained on SaudiNewsNet, by folder name (their README may be absent
#: where the card is built)
NON_COMMERCIAL_BACKBONES = ("arabic-news-bert-mini",)
TAGS = ["arabic", "token-classification", "relation-extraction", "event-extraction",
        "named-entity-recognition", "news", "conflict", "ghara"]



# -- metadata -------------------------------------------------------------------------------
def _first_json(*paths: Path) -> dict[str, Any]:
    """The first of ``paths`` that exists, parsed; {} when none does. A file that is there
    but unreadable is an error: a card must not quietly lose what the model was built from."""
    for path in paths:
        if path.is_file():
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as err:
                raise SystemExit(f"error: {path} is not valid JSON: {err}") from None
    return {}


def _model_config(model_dir: Path) -> dict[str, Any]:
    return _first_json(model_dir / MODEL_CONFIG_NAME)


def _training_config(model_dir: Path) -> dict[str, Any]:
    """train.py's ``train_config.json`` beside the model or one level up (``runs/x/best``)."""
    return _first_json(model_dir / TRAIN_CONFIG_NAME, model_dir.parent / TRAIN_CONFIG_NAME)


def _training_data_text(train: dict[str, Any], schema_version: str) -> str | None:
    if not train.get("train_files"):
        return None
    names = ", ".join(f"`{Path(f).name}`" for f in train["train_files"])
    dev = (f"`{Path(train['dev_file']).name}`" if train.get("dev_file")
           else f"a seeded {train.get('dev_fraction', '?')} fraction of the training articles")
    backbone = train.get("backbone")
    if backbone and not _HUB_ID.match(str(backbone)):
        backbone = Path(str(backbone)).name
    return (
        f"Label Studio exports annotated under the ghara schema v{schema_version}: trained on "
        f"{names}, model selected on {dev} ({train.get('epochs', '?')} epochs at most, "
        f"batch size {train.get('batch_size', '?')}, encoder `{backbone}`). Articles are split "
        "into paragraphs (one per line); relations never cross a paragraph."
    )


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def model_license(train: dict[str, Any], explicit: str | None = None) -> str:
    """The hub licence id of the model: ``explicit``, else ``cc-by-nc-sa-4.0`` when its
    backbone was trained on SaudiNewsNet (a local backbone whose README names it, or a
    known one), else ``apache-2.0``. Why: the default used to be Apache-2.0 for every
    model, which mislabelled the mini model, a derivative of non-commercial texts."""
    if explicit:
        return explicit
    backbone = str(train.get("backbone") or "")
    if backbone and Path(backbone).name in NON_COMMERCIAL_BACKBONES:
        return NON_COMMERCIAL_LICENSE
    readme = Path(backbone) / "README.md"
    try:
        text = readme.read_text(encoding="utf-8", errors="replace") if backbone else ""
    except OSError:
        text = ""
    return NON_COMMERCIAL_LICENSE if "SaudiNewsNet" in text else DEFAULT_LICENSE


def _base_model(config: dict[str, Any], explicit: str | None,
                train: dict[str, Any] | None = None) -> str | None:
    """The hub id the encoder was fine-tuned from, if it is one (local paths are not)."""
    candidates = [explicit, (train or {}).get("backbone")]
    training = config.get("training") or {}
    candidates += [training.get("backbone"), training.get("base_model"),
                   config.get("base_model"), (config.get("encoder") or {}).get("_name_or_path")]
    for cand in candidates:
        if cand and isinstance(cand, str) and _HUB_ID.match(cand) and not Path(cand).exists():
            return cand
    return None


def eval_results_from_report(report: dict[str, Any], dataset_name: str | None = None) -> list:
    """``EvalResult`` objects for the model-index, values taken verbatim from the report."""
    from huggingface_hub import EvalResult

    data = report.get("data") or ["ghara evaluation data"]
    dataset_name = dataset_name or ", ".join(Path(d).name for d in data)
    common = {"dataset_type": "ghara-strikes", "dataset_name": dataset_name}
    results = []

    def add(task_type, task_name, metric_type, metric_name, value):
        results.append(EvalResult(task_type=task_type, task_name=task_name,
                                  metric_type=metric_type, metric_name=metric_name,
                                  metric_value=float(value), **common))

    ent = report["entities"]
    task = ("token-classification", "Strike entities (strict IOB2, seqeval)")
    for key in ("precision", "recall", "f1"):
        add(*task, key, f"entity micro {key}", ent["micro"][key])
    add(*task, "f1", "entity macro f1", ent["macro"]["f1"])
    for label, row in ent["per_label"].items():
        if row["support"]:
            add(*task, "f1", f"{label} f1", row["f1"])
    rel = report["relations"]
    task = ("relation-extraction", "Strike relations (strict)")
    for mode in ("end_to_end", "gold_spans"):
        if mode in rel:
            for key in ("precision", "recall", "f1"):
                add(*task, key, f"relation {mode.replace('_', ' ')} micro {key}",
                    rel[mode]["micro"][key])
    ev = report["events"]
    task = ("event-extraction", "Strike events (trigger match, argument roles)")
    add(*task, "f1", "trigger f1", ev["trigger"]["f1"])
    for key in ("precision", "recall", "f1"):
        add(*task, key, f"argument micro {key}", ev["arguments"]["micro"][key])
    add(*task, "accuracy", "exactly right events", ev["exact"]["rate"])
    return results


# -- body -----------------------------------------------------------------------------------
def _results_section(report: dict[str, Any]) -> str:
    ent, rel, ev = report["entities"], report["relations"], report["events"]
    lines = [
        f"Evaluated on {', '.join(Path(d).name for d in report.get('data', [])) or 'held-out data'}"
        f" ({report.get('documents', '?')} articles, {report.get('paragraphs', '?')} paragraphs);"
        " all scores strict (exact boundaries and labels), in percent.",
        "",
        "| entities | P | R | F1 | support |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, row in ent["per_label"].items():
        lines.append(f"| {label} | {_pct(row['precision'])} | {_pct(row['recall'])} | "
                     f"{_pct(row['f1'])} | {row['support']} |")
    m = ent["micro"]
    lines.append(f"| **micro** | {_pct(m['precision'])} | {_pct(m['recall'])} | {_pct(m['f1'])} "
                 f"| {m['support']} |")
    lines.append(f"| **macro** | {_pct(ent['macro']['precision'])} | {_pct(ent['macro']['recall'])}"
                 f" | {_pct(ent['macro']['f1'])} | |")
    lines += ["", "| relations (micro) | P | R | F1 |", "|---|---:|---:|---:|"]
    for mode in ("end_to_end", "gold_spans"):
        if mode in rel:
            r = rel[mode]["micro"]
            lines.append(f"| {mode.replace('_', ' ')} | {_pct(r['precision'])} | "
                         f"{_pct(r['recall'])} | {_pct(r['f1'])} |")
    t, a = ev["trigger"], ev["arguments"]["micro"]
    lines += [
        "",
        f"Events: trigger F1 {_pct(t['f1'])}, argument-role F1 {_pct(a['f1'])} "
        f"(P {_pct(a['precision'])}, R {_pct(a['recall'])}); "
        f"{ev['exact']['matched']} of {ev['exact']['support']} gold events exactly right.",
    ]
    return "\n".join(lines)


def _model_schema(config: dict[str, Any]) -> Schema:
    """The schema the model was trained with (its config.json); the built-in one for a
    model saved without it. Descriptions come from the built-in schema where it has them."""
    if not config.get("schema"):
        return SCHEMA
    return Schema.from_dict(config["schema"])


def _schema_section(schema: Schema) -> str:
    def describe(key: str) -> str:
        return schema.descriptions.get(key) or SCHEMA.descriptions.get(key, "")

    lines = [f"Schema version {schema.version}. Spans are flat; relations go from a "
             f"{schema.trigger_label} span to an argument in the same paragraph.", "",
             "| label | marks |", "|---|---|"]
    for label in schema.entity_labels:
        lines.append(f"| {label} | {describe(label)} |")
    lines += ["", "| relation | argument label | meaning |", "|---|---|---|"]
    for role, label in schema.roles.items():
        lines.append(f"| {role} | {label} | {describe(role)} |")
    lines += ["", f"Tagger tags (IOB2): {', '.join(schema.bio_tags)}.",
              f"Relation classes: {', '.join(schema.relation_classes)}."]
    return "\n".join(lines)


def _seeds_section(summary: dict[str, Any] | None) -> str:
    """Mean ± sd of the dev scores over the seeds of ``train.py --seeds`` (or nothing)."""
    if not summary or not summary.get("mean"):
        return ""
    seeds = summary.get("seeds") or sorted(summary.get("per_seed", {}))
    lines = ["", f"### Variation over training seeds ({', '.join(map(str, seeds))})", "",
             "Best-epoch dev scores of one model per seed (`train.py --seeds`), in percent:", "",
             "| metric | mean | sd |", "|---|---:|---:|"]
    for key, mean in summary["mean"].items():
        sd = summary.get("sd", {}).get(key, 0.0)
        lines.append(f"| {key.replace('_', ' ')} | {_pct(mean)} | {_pct(sd)} |")
    return "\n".join(lines)


def find_seeds_summary(model_dir: Path) -> Path | None:
    """``OUT/seeds_summary.json`` for a model in ``OUT/seed-N/best`` (None elsewhere)."""
    model_dir = model_dir.resolve()
    if model_dir.parent.name.startswith("seed-"):
        candidate = model_dir.parent.parent / "seeds_summary.json"
        if candidate.is_file():
            return candidate
    return None


def _body(name: str, repo_id: str | None, report: dict[str, Any], config: dict[str, Any],
          base_model: str | None, training_data: str | None,
          seeds_summary: dict[str, Any] | None = None) -> str:
    load_from = repo_id or "path/to/model"
    encoder = config.get("encoder") or {}
    arch = ""
    if encoder:
        arch = (f" The encoder is a {encoder.get('model_type', 'transformer')} with "
                f"{encoder.get('num_hidden_layers', '?')} layers and hidden size "
                f"{encoder.get('hidden_size', '?')}"
                + (f", fine-tuned from [{base_model}](https://huggingface.co/{base_model})"
                   if base_model else "") + ".")
    training_data = training_data or (
        "Label Studio exports annotated under the ghara schema (one task per article, "
        "paragraphs separated by newlines), converted with `annotation.read_export`."
    )
    schema = _model_schema(config)
    return f"""
# {name}

Reads Arabic news articles and returns **strike events**: who struck (actor), what was hit
(targets), where, when, how many strikes, and how many people were killed or injured, each
with character offsets into the article. One model does it jointly: a transformer encoder,
a word-level BIO tagger for the {len(schema.entity_labels)} span labels (constrained Viterbi
decoding), and a relation head over (strike, argument) pairs.{arch}

## Results

{_results_section(report)}
{_seeds_section(seeds_summary)}

## Label schema

{_schema_section(schema)}

An event is one {schema.trigger_label} span with its relations:
`{{trigger, actors[], targets[], places[], dates[], strikes, killed, injured}}`; COUNT
arguments are also turned into integers (Arabic-Indic digits and number words included;
vague quantifiers such as عشرات keep `null` with their text).

## Training data

{training_data}

## How to use

```python
# pip install "ghara @ git+<repository url>"   (provides the `model` package)
from model import StrikeExtractor

extractor = StrikeExtractor.from_pretrained("{load_from}")       # or device="cuda"
events = extractor.extract(article_text)                        # list[StrikeEvent]
for event in events:
    print(event.to_dict())   # offsets index article_text, also for non-NFC input
batches = extractor.extract_batch(list_of_articles, batch_size=32)
```

A corpus (JSON lines with `id` and `text`), resumable and streaming:

```bash
python -m model.batch --model {load_from} --input articles.jsonl --output events.jsonl
```

## Intended use

Research and analysis of reporting about air, drone, missile and artillery strikes in
Arabic news: building event datasets for conflict monitoring, journalism and humanitarian
research, with a human reviewing the output (the predictions can be loaded back into Label
Studio as pre-annotations). The model extracts what a text *reports*; it does not verify it.

## Limitations

- Trained on a small amount of annotated text (news agencies and newspapers, mostly about
  Syria and Iraq, 2015-2018): expect lower quality on other conflicts, dialects, social
  media, and on long or unusual sentence structures.
- Scores above are strict; partial spans count as errors. Relation scores end to end are
  bounded by span quality.
- Events are per mention; `model.records` merges the mentions of one incident within an
  article and `ghara incidents` across articles, by date, place, actor and target. Those
  merges are rules, not learned, and can join two nearby strikes or split one.
- Dates resolve to calendar intervals only against a publication date and only for the
  expressions the project's date convention covers (others stay `null` with their text);
  places resolve against GeoNames names (villages need a country dump) or stay
  `unresolved`; vague counts (عشرات) keep a range and a conservative figure, not a number.

## Ethical considerations

- Casualty and attack data concern real people and ongoing conflicts. Outputs are
  *claims made in news reports*, which may be partisan, unverified, propaganda, or later
  corrected; never treat an extracted count or actor as established fact, and keep the
  source text and offsets with every record.
- Attribution errors (a wrong actor) can assign responsibility for deaths to the wrong
  party. Review before publishing anything derived from this model, and report error rates
  with any aggregate.
- Do not use the model for targeting, surveillance of individuals, or any decision about
  people; aggregate counts can under- or over-represent particular regions and parties
  depending on which outlets report them.
- The training texts come from third-party news corpora under their own licences (e.g. the
  ANT corpus, Apache-2.0, and SaudiNewsNet, CC BY-NC-SA 4.0, non-commercial); check them
  before commercial use.
"""


def build_card(
    model_dir: str | Path,
    report: dict[str, Any],
    *,
    repo_id: str | None = None,
    name: str | None = None,
    license: str | None = None,
    base_model: str | None = None,
    datasets: list[str] | None = None,
    training_data: str | None = None,
    seeds_summary: dict[str, Any] | None = None,
):
    """A ``huggingface_hub.ModelCard`` for the model in ``model_dir`` and its report
    (``seeds_summary``: ``train.py --seeds``' summary, for the variation over seeds;
    ``license``: None = :func:`model_license`)."""
    from huggingface_hub import ModelCard, ModelCardData

    model_dir = Path(model_dir)
    config = _model_config(model_dir)
    train = _training_config(model_dir)
    base = _base_model(config, base_model, train)
    training_data = training_data or _training_data_text(train, _model_schema(config).version)
    name = name or (repo_id.split("/")[-1] if repo_id else model_dir.resolve().name)
    data = ModelCardData(
        language="ar",
        license=model_license(train, license),
        base_model=base,
        pipeline_tag="token-classification",
        library_name="ghara",
        tags=list(TAGS),
        datasets=datasets or None,
        metrics=["precision", "recall", "f1"],
        model_name=name,
        eval_results=eval_results_from_report(report),
    )
    content = f"---\n{data.to_yaml()}\n---\n{_body(name, repo_id, report, config, base, training_data, seeds_summary)}"
    return ModelCard(content)


# -- command line ---------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m model.card", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="the trained model directory")
    p.add_argument("--eval", required=True, help="report JSON written by evaluate.py --out")
    p.add_argument("--out", help="where to write the card (default: MODEL/README.md)")
    p.add_argument("--push-to-hub", metavar="ORG/NAME", help="upload model + card (HF_TOKEN)")
    p.add_argument("--private", action="store_true", help="create the hub repo private")
    p.add_argument("--name", help="model name in the card (default: repo or folder name)")
    p.add_argument("--license", help="hub licence id (default: cc-by-nc-sa-4.0 for a backbone "
                   "trained on SaudiNewsNet, such as arabic-news-bert-mini; else apache-2.0)")
    p.add_argument("--base-model", help="hub id of the encoder it was fine-tuned from")
    p.add_argument("--dataset", action="append", default=[], help="hub dataset id (repeatable)")
    p.add_argument("--training-data", help="text for the card's training data section")
    p.add_argument("--seeds-summary", help="seeds_summary.json of train.py --seeds (default: "
                   "found beside a MODEL in OUT/seed-N/best; 'none' to leave it out)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    model_dir = Path(args.model)
    if not model_dir.is_dir():
        print(f"error: model directory not found: {model_dir}", file=sys.stderr)
        return 2
    token = None
    if args.push_to_hub:
        token = os.environ.get("HF_TOKEN")
        if not token:
            print("error: --push-to-hub needs a Hugging Face write token in the HF_TOKEN "
                  "environment variable (nothing was uploaded)", file=sys.stderr)
            return 2
        if not _HUB_ID.match(args.push_to_hub):
            print(f"error: --push-to-hub expects ORG/NAME, got {args.push_to_hub!r}",
                  file=sys.stderr)
            return 2
    try:
        report = json.loads(Path(args.eval).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        print(f"error: cannot read the evaluation report {args.eval}: {err}", file=sys.stderr)
        return 2
    summary_path = (None if args.seeds_summary == "none"
                    else Path(args.seeds_summary) if args.seeds_summary
                    else find_seeds_summary(model_dir))
    summary = None
    if summary_path is not None:
        try:
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            print(f"error: cannot read the seeds summary {summary_path}: {err}", file=sys.stderr)
            return 2
        print(f"seed variation from {summary_path}")
    card = build_card(
        model_dir, report, repo_id=args.push_to_hub, name=args.name, license=args.license,
        base_model=args.base_model, datasets=args.dataset or None,
        training_data=args.training_data, seeds_summary=summary,
    )
    out = Path(args.out) if args.out else model_dir / "README.md"
    card.save(out)
    print(f"model card written to {out}")
    if args.push_to_hub:
        from huggingface_hub import HfApi

        if out.resolve() != (model_dir / "README.md").resolve():
            card.save(model_dir / "README.md")
        api = HfApi(token=token)
        url = api.create_repo(args.push_to_hub, private=args.private, exist_ok=True,
                              repo_type="model")
        api.upload_folder(repo_id=args.push_to_hub, folder_path=str(model_dir),
                          repo_type="model", commit_message="Upload ghara model and card",
                          ignore_patterns=["*.pt", "optimizer*", "checkpoint-*/**"])
        print(f"pushed {model_dir} to {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
