"""Fitting both models: augmentation, batches, distribution strategies, seeding."""
