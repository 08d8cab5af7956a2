"""A word-level tokenizer (Hugging Face `tokenizers`) over a closed vocabulary, for the tiny model.

Words carry a leading "▁" for the space before them (Metaspace) and punctuation is split off, so
decoding gives back ordinary text ("B. The circle is blue.") that the symbolic reward can read.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Iterable

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

PAD, BOS, EOS, UNK, IMAGE = "<pad>", "<s>", "</s>", "<unk>", "<image>"
SPECIAL_TOKENS = (PAD, BOS, EOS, UNK, IMAGE)  # ids 0..4 in this order


def _pipeline(tok: Tokenizer) -> None:
    tok.normalizer = normalizers.Replace("\n", " ")  # newlines only separate words here
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Metaspace(), pre_tokenizers.Punctuation()])
    tok.decoder = decoders.Metaspace()


def build_word_tokenizer(corpus: Iterable[str]) -> Tokenizer:
    """A tokenizer whose vocabulary is every word and punctuation mark of `corpus`.

    Ids are deterministic: the special tokens first, then words by descending frequency, ties
    broken alphabetically.
    """
    probe = Tokenizer(models.WordLevel({UNK: 0}, unk_token=UNK))
    _pipeline(probe)
    assert probe.normalizer is not None and probe.pre_tokenizer is not None
    counts: Counter[str] = Counter()
    for text in corpus:
        for special in SPECIAL_TOKENS:
            text = text.replace(special, " ")
        normalized = probe.normalizer.normalize_str(text)
        counts.update(piece for piece, _ in probe.pre_tokenizer.pre_tokenize_str(normalized))
    vocab = {token: i for i, token in enumerate(SPECIAL_TOKENS)}
    for word, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if word not in vocab:
            vocab[word] = len(vocab)
    tok = Tokenizer(models.WordLevel(vocab, unk_token=UNK))
    _pipeline(tok)
    tok.add_special_tokens(list(SPECIAL_TOKENS))
    return tok


def load_word_tokenizer(path: Path) -> Tokenizer:
    return Tokenizer.from_file(str(path))
