"""The maintainers' tools for a clone of the repository, shared by scripts/, benchmarks/ and tests/: copies of
the project, the commands that drive DVC in them, the real-data recipe, the local S3 server, the
reproducibility check. The library never imports them (pyproject.toml's import-linter contract)."""
