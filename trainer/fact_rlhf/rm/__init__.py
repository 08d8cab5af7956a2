"""Reward model: fact-augmented inputs, scoring and the warm-up training before PPO."""
