"""Models: the tiny built-in LLaVA, real checkpoints, tokenizers/codecs and the adapter stack."""
