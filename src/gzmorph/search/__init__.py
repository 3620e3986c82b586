"""Searching a predictions table by its embeddings: galaxies like a query (a vector index saved beside the
table), galaxies like a few examples, the strangest galaxies, and contact sheets to look at the answers.
No TensorFlow here: a query given as an image is embedded by the caller (gzmorph.api) with the models that
wrote the table."""
