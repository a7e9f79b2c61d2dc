"""Steps wire the pure computations (audio, datasets, metrics, models, experiments) to the
store: each one reads its inputs from the store, skips what is already done, and writes
its outputs atomically at a resumable grain."""
