"""Encryption at rest: the field cipher and re-sealing under a new key."""
