"""`python -m fact_rlhf demo`: the whole pipeline on the built-in world over several seeds, one results table."""
