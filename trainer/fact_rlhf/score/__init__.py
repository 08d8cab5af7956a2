"""Batch scoring of sample records with a reward model: the PyTorch reference of `fact-rlhf score`."""
