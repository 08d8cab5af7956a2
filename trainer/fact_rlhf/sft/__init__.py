"""Supervised fine-tuning (and the rl_init policy LoRA, which trains with the same loss)."""
