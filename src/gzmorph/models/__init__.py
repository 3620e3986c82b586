"""Keras models and what running them needs: encoders, classifier, caption decoder, beam search, the forward
pass, a loaded models folder, model files, the folder's layout and its card."""
