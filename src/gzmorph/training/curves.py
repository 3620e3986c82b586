"""Training curves with DVCLive: a folder per training, a TSV per metric for ``dvc plots``, and the last
epoch's figures in ``metrics.json``, which ``dvc exp show`` reads while an experiment trains."""
from __future__ import annotations

import json
import os
from pathlib import Path

import keras
from dvclive import Live
from dvclive.keras import DVCLiveCallback
from scmrepo.exceptions import SCMError

from gzmorph.errors import GzmorphError

# The curves as they stood at the last backup, kept in the backup's folder (Keras deletes it when training
# ends): DVC deletes a stage's outputs before it reruns the stage, so this copy is what a resumed run continues.
# Neither DVC's persist nor DVCLive's resume replaces it: they keep whatever the folder holds, which after a
# checkout between the stop and the resume is another run's curves; the copy belongs to its backup.
SNAPSHOT = "curves.json"


def curves_logger(folder: Path, backup_dir: Path | None = None, first_epoch: int = 0) -> list[keras.callbacks.Callback]:
    """Callbacks that log Keras' metrics of every epoch under ``folder``: ``train/loss.tsv``,
    ``eval/loss.tsv`` (from ``val_loss``), ... with the epoch as DVCLive's ``step``.

    With ``backup_dir``, the training's backup folder, the curves are copied there each epoch, before the
    backup itself is written (so list these callbacks before it). A run resumed at ``first_epoch`` starts
    from that copy and drops any epochs from ``first_epoch`` on, which it logs again as it redoes them.
    """
    if first_epoch and backup_dir is not None and (backup_dir / SNAPSHOT).is_file():
        restore(folder, backup_dir / SNAPSHOT)
    try:
        # dvc.yaml declares the plots itself, and `dvc exp run` saves the experiment: DVCLive writes only its folder.
        live = Live(str(folder), resume=first_epoch > 0, save_dvc_exp=False, dvcyaml=None, report=None)
    except SCMError as error:  # DVCLive 3.49 reads HEAD, which a git repository without commits lacks
        raise GzmorphError(f"the training curves (DVCLive) need a git commit in this repository ({error}): "
                           "commit first, e.g. `git add -A && git commit -m start`") from None
    if first_epoch:
        drop_steps_from(Path(live.plots_dir), first_epoch)
        live.step = first_epoch
    return [DVCLiveCallback(live=live), *([KeepCurves(folder, backup_dir / SNAPSHOT)] if backup_dir else [])]


class KeepCurves(keras.callbacks.Callback):
    """Copies the curves folder into one file at every epoch's end, atomically: a run stopped at any
    moment leaves either the previous copy or the new one."""

    def __init__(self, folder: Path, snapshot: Path):
        super().__init__()
        self.folder, self.snapshot = folder, snapshot

    def on_epoch_end(self, epoch, logs=None):
        files = {str(f.relative_to(self.folder)): f.read_text(encoding="utf-8")
                 for f in sorted(self.folder.rglob("*")) if f.is_file()}
        self.snapshot.parent.mkdir(parents=True, exist_ok=True)
        partial = self.snapshot.with_suffix(".partial")
        partial.write_text(json.dumps(files), encoding="utf-8")
        os.replace(partial, self.snapshot)


def restore(folder: Path, snapshot: Path) -> None:
    for name, text in json.loads(snapshot.read_text(encoding="utf-8")).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")


def drop_steps_from(plots_dir: Path, first: int) -> None:
    for tsv in plots_dir.rglob("*.tsv"):
        header, *rows = tsv.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [row for row in rows if int(row.split("\t", 1)[0]) < first]  # DVCLive writes step first
        tsv.write_text(header + "".join(kept), encoding="utf-8")
