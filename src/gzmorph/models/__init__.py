"""Keras models and what running them needs: encoders, classifier, caption decoder, search, model files."""
