"""What the training stages share: where their models come from, their checkpoints, preflight."""
