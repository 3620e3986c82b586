"""The released model, shipped inside the gzmorph package: pyproject.toml maps this folder onto gzmorph.released."""
