"""The embedded sample's generator: synthetic galaxies, rendered and voted on (uses gz2 only)."""
