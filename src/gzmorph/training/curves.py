"""Training curves with DVCLive: a folder per training, a TSV per metric for ``dvc plots``, and the last
epoch's figures in ``metrics.json``, which ``dvc exp show`` reads while an experiment trains."""
from __future__ import annotations

from pathlib import Path

from dvclive import Live
from dvclive.keras import DVCLiveCallback


def curves_logger(folder: Path, first_epoch: int = 0) -> DVCLiveCallback:
    """Keras' metrics of every epoch, under ``folder``: ``train/loss.tsv``, ``eval/loss.tsv`` (from
    ``val_loss``), ... with the epoch as DVCLive's ``step``.

    A run resumed at ``first_epoch`` continues the curves its stopped run wrote. The stopped run may have
    logged epochs after its last backup; they are dropped, to be logged again as the resumed run redoes them.
    """
    # dvc.yaml declares the plots itself, and `dvc exp run` saves the experiment: DVCLive writes only its folder.
    live = Live(str(folder), resume=first_epoch > 0, save_dvc_exp=False, dvcyaml=None, report=None)
    if first_epoch:
        drop_steps_from(Path(live.plots_dir), first_epoch)
        live.step = first_epoch
    return DVCLiveCallback(live=live)


def drop_steps_from(plots_dir: Path, first: int) -> None:
    for tsv in plots_dir.rglob("*.tsv"):
        header, *rows = tsv.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [row for row in rows if int(row.split("\t", 1)[0]) < first]  # DVCLive writes step first
        tsv.write_text(header + "".join(kept), encoding="utf-8")
