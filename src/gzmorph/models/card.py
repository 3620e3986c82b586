"""A models folder's card (README.md), made from the folder's own files alone, so that any trained folder
can have one and a test can remake the released one and compare: the records say what the models learnt
from and how they answer; metrics/, release.json and galaxy_ids.csv, where the folder has them, say how
well they do and how they were made.

    gzmorph card --models models      # the pipeline's models; the released model's card is its README.md
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from gzmorph.data.decoding import KAGGLE_FRAME, span_in_r90
from gzmorph.data.packed_splits import SPLIT_NAMES
from gzmorph.gz2.rule import CLASSES
from gzmorph.models.files import CaptionerRecord, ClassifierRecord
from gzmorph.models.folder import ModelsFolder
from gzmorph.paths import CLASSIFIER_METRICS

HEADLINE = ("accuracy", "f1_weighted", "f1_macro", "vote_rmse")
STALE = "remake it with this version of gzmorph before writing its card"


def model_card(folder: ModelsFolder) -> str:
    classifier = folder.record(ClassifierRecord, STALE)
    captioner = folder.record(CaptionerRecord, STALE) if folder.captioner.is_dir() else None
    metrics = {f.stem: json.loads(f.read_text()) for f in sorted(folder.metrics.glob("*.json"))}
    run = json.loads(folder.run.read_text()) if folder.run.is_file() else None
    sections = [title(run, classifier), learnt_from(folder, classifier, metrics, run),
                answers(classifier, captioner, folder), made(run), how_well(folder, metrics, classifier),
                every_question(metrics),
                limits(folder, classifier, metrics), files(folder)]
    return "\n".join(section for section in sections if section)


def title(run: dict | None, record: ClassifierRecord) -> str:
    if run is None:
        return f"""# gzmorph models, trained on {record.trained_on}

`gzmorph predict --models <this folder>` and `gzmorph evaluate --models <this folder>` use them.
"""
    return """# Released model: gzmorph on real Galaxy Zoo 2 galaxies

The classifier and captioner that `gzmorph predict`, `gzmorph evaluate` and `gzmorph.predict` use unless
told another folder, shipped inside the package (`models/released` in a clone), and the starting point for
fine-tuning (`train_classifier.init: models/released`).
"""


def learnt_from(folder: ModelsFolder, record: ClassifierRecord, metrics: dict, run: dict | None) -> str:
    columns = record.learnt_columns
    lines = [f"- **Data:** {record.trained_on}" + (" (the embedded synthetic sample: its answers mean nothing "
                                                   "for real galaxies)" if record.synthetic else "") + "."]
    if "data_report" in metrics:
        report = metrics["data_report"]
        more = "".join(f"; {other['rows_kept']} of {other['rows_read']} from {name}"
                       for name, other in report.get("more_sources", {}).items())
        lines.append(f"- **Galaxies:** {report['rows_kept']} kept of {report['rows_read']} rows read{more}.")
    if run:
        hashes = ", ".join(f"{name} `{md5}`" for name, md5 in run["data_md5_dvc"].items())
        lines.append(f"- **DVC's hashes of the data:** {hashes}.")
    lines.append(f"- **Vote columns ({len(columns)} of 37):** {', '.join(columns)}.")
    shared = scale(record)
    if shared:
        lines.append(shared)
    if folder.galaxy_ids.is_file():
        ids = in_folder(folder, folder.galaxy_ids)
        lines.append(f"- **GalaxyIDs:** `{ids}`, each with its class and split (no images or vote tables).")
    text = "## What it learnt from\n\n" + "\n".join(lines) + "\n"
    if "split_report" in metrics:
        splits = metrics["split_report"]
        counts = " | ".join(str(splits[f"{split}_galaxies"]) for split in SPLIT_NAMES)
        rows = "\n".join(f"| {c} | " + " | ".join(str(splits[f"{s}_{c}"]) for s in SPLIT_NAMES) + " |"
                         for c in CLASSES)
        text += f"""- **Galaxies per split (train | val | test):** {counts}

| class | train | val | test |
| --- | --- | --- | --- |
{rows}
"""
    return text


def scale(record: ClassifierRecord) -> str:
    """Which catalogue's scale the columns are on, where other sources taught some questions."""
    main, learnt = record.decision.vote_columns, record.learnt_columns
    numbers = lambda columns: ", ".join(dict.fromkeys(c.split(".")[0].removeprefix("Class") for c in columns))  # noqa: E731
    others = [c for c in learnt if c not in main]
    if not others:
        return ""
    return (f"- **Catalogue scale:** questions {numbers(main)} are learnt from its main source's columns, on that "
            f"catalogue's scale. Questions {numbers(others)} are learnt from the other source(s) as shares of each "
            "question's answers only, never as columns, so another catalogue's scale (hart16 gives the same "
            "pixels a smooth fraction ~0.2 higher than Kaggle's) reaches no column: their columns are the main "
            "source's parent columns times those shares, and every output is on the main source's scale.")


def every_question(metrics: dict) -> str:
    """Each question's figures on each source's test galaxies (gzmorph.inference.questions)."""
    classifier = metrics.get("classifier", {})
    tests = {"main source": classifier, **classifier.get("sources", {})}
    rows = [question_row(key, source, q) for source, scores in tests.items()
            for key, q in scores.get("questions", {}).items() if "answers_rmse" in q]
    if not rows:
        return ""
    return f"""## Every question, on the held-out test galaxies

Answer shares (a column over its question's total) on the test galaxies at least 30 % of whose volunteers
reached the question, against the training galaxies' mean share; for the yes/no questions, how often the
majority answer is the volunteers' (model / constant). 95 % bootstrap intervals. The columns as products too:
`{CLASSIFIER_METRICS.name}`, `questions`.

| question | test galaxies of | reached | answers RMSE | constant | majority right |
| --- | --- | --- | --- | --- | --- |
""" + "\n".join(rows) + "\n"


def question_row(key: str, source: str, q: dict) -> str:
    accuracy = ""
    if "majority_accuracy" in q:
        accuracy = f"{figure(q, 'majority_accuracy')} / {q['majority_accuracy_constant']}"
    return (f"| {key} | {source} | {q['reached']} | {figure(q, 'answers_rmse')} | {q.get('answers_rmse_constant', '')} "
            f"| {accuracy} |")


def answers(classifier: ClassifierRecord, captioner: CaptionerRecord | None, folder: ModelsFolder) -> str:
    """The settings the folder answers with, whatever params.yaml a working tree holds."""
    rule = ", ".join(f"`{k}: {v}`" for k, v in asdict(classifier.rule).items())
    lines = [f"- **Images:** the centre {classifier.crop} px of Kaggle's {KAGGLE_FRAME} px frame (the same fraction "
             f"of any other cut-out's shorter side), resized to {classifier.pixels} px. GZ2's frame spans "
             f"{span_in_r90(KAGGLE_FRAME)} times the galaxy's r-band Petrosian radius petroR90_r, the galaxy "
             f"centred, so the model sees {span_in_r90(classifier.crop)} petroR90_r from side to side: frame "
             "cut-outs so (README, \"What a cut-out should look like\"), or give `--crop`.",
             f"- **Class:** `class_from: {classifier.decision.class_from}`, chosen on validation with "
             f"`tta: {str(classifier.tta).lower()}`; the class rule: {rule}."]
    if captioner:
        templates = ", ".join(f"`{k}: {v}`" for k, v in asdict(captioner.build_captions).items())
        lines.append(f"- **Captions:** beam search, `beam_width: {captioner.beam_width}`, `length_penalty: "
                     f"{captioner.length_penalty}`; the caption templates: {templates}.")
    if folder.familiarity.is_file():
        lines.append(f"- **Unfamiliar images:** `{in_folder(folder, folder.familiarity)}` holds its training galaxies' "
                     "statistics; each row's `familiarity` is the image's distance from them in three views, each "
                     "as a multiple of what 99 % of its validation galaxies stay within: `familiar` when at most 1. "
                     "A run of mostly unfamiliar images ends in a warning.")
    records = " and ".join(f"`{in_folder(folder, folder.record_file(kind))}`"
                           for kind in (ClassifierRecord, CaptionerRecord))
    return f"## How it answers\n\nThese travel in {records}; `--params` overrides them.\n\n" + "\n".join(lines) + "\n"


def made(run: dict | None) -> str:
    if run is None:
        return ""
    recipe = ", ".join(f"`{k}: {v}`" for k, v in run["recipe"].items())
    seconds = ", ".join(f"{k} {v}" for k, v in run["stage_seconds"].items())
    return f"""## How it was made

- **Command:** `{run['command']}` at commit {run['commit']}, {run['date']}.
- **Params:** `params.yaml` here: the committed defaults with the real-data recipe {recipe}; `data.raw_dir`
  names the data by what they are, not where they lay.
- **Machine:** {run['cpu']}, {run['cores']} cores, no GPU; stage seconds:
  {seconds}.
""" + (f"- **Rescored:** {run['rescored']}\n" if "rescored" in run else "")


def figure(metrics: dict, key: str) -> str:
    interval = metrics.get("ci95", {}).get(key)
    return f"{metrics[key]}" + (f" ({interval['low']}–{interval['high']})" if interval else "")


def how_well(folder: ModelsFolder, metrics: dict, record: ClassifierRecord) -> str:
    if "classifier" not in metrics or "captioner" not in metrics:
        return ""
    classifier, captioner = metrics["classifier"], metrics["captioner"]
    test = sum(c["support"] for c in classifier["classes"].values())
    rows = "\n".join(f"| {key} | {figure(classifier, key)} |" for key in HEADLINE)
    decision = in_folder(folder, folder.record_file(ClassifierRecord))
    return f"""## How well it does, on its own held-out test split ({test} galaxies; 95 % bootstrap intervals)

| figure | value |
| --- | --- |
{rows}
| vote RMSE, training-mean constant | {classifier['vote_rmse_constant']} |
| captions: beam BLEU-4 | {figure(captioner, 'bleu4')} |
| captions: class agreement | {captioner['class_agreement']} |
{variety_rows(captioner)}
Per-class figures: `{per_class(folder)}`; the class decision: `{decision}`
(`class_from: {record.decision.class_from}`).
"""


def variety_rows(captioner: dict) -> str:
    """How varied the beam's captions are and how many go beyond the shape, where the metrics say."""
    beam = captioner.get("beam", {})
    if "names_fine_feature" not in beam:
        return ""
    distinct = int(beam["distinct"])
    return (f"| captions: distinct, the three commonest's share | {distinct}, {captioner['top3_share']} |\n"
            f"| captions naming a bar, spiral arms or a bulge | {beam['names_fine_feature']} |\n")


def limits(folder: ModelsFolder, record: ClassifierRecord, metrics: dict) -> str:
    columns = record.learnt_columns
    lines = []
    if len(columns) < 37:
        lines.append(f"- It predicts all 37 vote fractions, but learnt only the {len(columns)} columns above; the "
                     "others are untrained and the output leaves them out, and its captions never state them.")
    if folder.other_release.stem in metrics:
        lines.append(f"- It learnt from Kaggle's SDSS cut-outs and their vote fractions. Another image release scores "
                     f"lower: {other_release(folder, metrics[folder.other_release.stem])}. Its images are the same "
                     "(some pixel for pixel), but its catalogue puts more of the vote in \"smooth\" for the same "
                     "picture, so the rule names more ellipticals; labels on that scale want the rule's thresholds "
                     "moved (docs/results.md, \"Why hart16 scores lower\") or fine-tuning on them (README).")
    for name, scores in metrics.get("classifier", {}).get("sources", {}).items():
        galaxies = sum(c["support"] for c in scores["classes"].values())
        lines.append(f"- Its class follows the main source's rule on the main source's scale. On {galaxies} test "
                     f"galaxies of {name}, against {name}'s own rule labels (its catalogue's scale), it scores "
                     f"accuracy {figure(scores, 'accuracy')} and macro F1 {figure(scores, 'f1_macro')}. Few of "
                     "them reach the finer questions, so those intervals are wide (the table above).")
    if "classifier" in metrics:
        lines.append("- Mergers and ambiguous galaxies are few in its training data; their recall is low "
                     f"(`{per_class(folder)}`).")
    return "## Limits\n\n" + "\n".join(lines) + "\n" if lines else ""


def other_release(folder: ModelsFolder, scores: dict) -> str:
    scores = scores["classifier"]
    galaxies = sum(c["support"] for c in scores["classes"].values())
    scored = in_folder(folder, folder.other_release)
    return (f"on {galaxies} Hart et al. (2016) galaxies of the GZ2 `images_gz2` release (`{scored}`) it "
            f"scores accuracy {scores['accuracy']}, weighted F1 {scores['f1_weighted']} and macro F1 "
            f"{scores['f1_macro']}")


def in_folder(folder: ModelsFolder, path: Path) -> str:
    """How the card names one of the folder's files: from the folder, with / on any system."""
    return path.relative_to(folder.root).as_posix()


def per_class(folder: ModelsFolder) -> str:
    """Where the classifier's per-class figures lie: the pipeline's metrics file, copied into the folder."""
    return in_folder(folder, folder.metrics / CLASSIFIER_METRICS.name)


def files(folder: ModelsFolder) -> str:
    rows = "\n".join(f"| `{in_folder(folder, p)}` | {p.stat().st_size:,} | "
                     f"`{hashlib.sha256(p.read_bytes()).hexdigest()[:16]}` |" for p in folder.files())
    return f"""## Files

| file | bytes | sha256 (first 16) |
| --- | --- | --- |
{rows}
"""
