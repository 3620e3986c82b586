"""The real-data recipe (real_data.yaml beside this file): the params real GZ2 galaxies change, for the
released model, bench_real and bench_finetune alike.

    dvc exp run $(python -m gzmorph.devtools.recipe) -S data.raw_dir=../shared/gz2/kaggle
"""
from __future__ import annotations

import json
from pathlib import Path

import yaml

FILE = Path(__file__).with_name("real_data.yaml")


def as_set(value) -> str:
    """A value as ``-S key=value`` takes it: YAML text (JSON is YAML)."""
    return value if isinstance(value, str) else json.dumps(value)


REAL_DATA: dict[str, str] = {key: as_set(value) for key, value in yaml.safe_load(FILE.read_text()).items()}


def arguments(recipe: dict[str, str] = REAL_DATA) -> list[str]:
    """``-S key=value`` for each param of ``recipe``, as `dvc exp run` takes them."""
    return [word for key, value in recipe.items() for word in ("-S", f"{key}={value}")]


def main() -> None:
    print(" ".join(arguments()))


if __name__ == "__main__":
    main()
