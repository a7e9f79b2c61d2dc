"""The autoencoder (autoencoder.py, gdn.py), its training losses (losses.py) and
pickle-free checkpoints (checkpoint.py)."""
