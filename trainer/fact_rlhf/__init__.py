"""Fact-RLHF trainer."""
