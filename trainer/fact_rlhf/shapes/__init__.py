"""The built-in synthetic "shapes" world in one package (DESIGN.md §4): scenes and their
drawing (scene), the closed vocabulary (vocab), captions and answers (text), question families
(questions), benchmark files (bench), the claim parser (claims) and exact judge (judge), the
world's files (world) and its SFT conversations (sft_data).

It depends only on the file formats below it (data.records, eval.mmhal, eval.chair); the stages
and benchmarks import it, never the other way round. Modules are imported directly.
"""
