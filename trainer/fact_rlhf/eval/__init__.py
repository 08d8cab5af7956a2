"""Hallucination benchmarks (FACT_RLHF.md §6): MMHal-Bench files and scoring, an OpenAI-compatible
judge, POPE, CHAIR, and the `eval` run's results file.

Modules are imported directly (`from fact_rlhf.eval.mmhal import ...`); this package imports nothing
heavy so that reading a benchmark file never pulls in torch.
"""
