"""Text templates for the policy prompt and the (fact-augmented) reward-model input.

Chat format: Vicuna v1, as used by LLaVA / LLaVA-RLHF. Rendered as

    SYSTEM_PROMPT + SEP
    + "USER: " + <human turn> + SEP
    + "ASSISTANT: " + <gpt turn> + SEP2        (repeated for each exchange)
    + "USER: " + ... + SEP + "ASSISTANT:"       (open turn: the model continues from here)

i.e. a single space after the system sentence and after each user message, and the end-of-sequence
text "</s>" (no space) closing each assistant message. Turn values are used verbatim, so the
"<image>\\n" marker of the first human turn stays where the multimodal model expects it.

The reward-model input appends a critique turn (FACT_RLHF.md §3; the wording is ours) whose
assistant part stops at RM_SCORE_SUFFIX_END: the RM scalar is read at the last token of that text.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

SYSTEM_PROMPT = (
    "A chat between a curious user and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the user's questions."
)
ROLE_USER = "USER"
ROLE_ASSISTANT = "ASSISTANT"
SEP = " "  # after the system sentence and after every user message
SEP2 = "</s>"  # closes every finished assistant message
HUMAN = "human"  # LLaVA-format speaker names
GPT = "gpt"

RM_CRITIQUE_INTRO = "Please evaluate the quality of your last response against the following four criteria.\n"
RM_ACCURATE = "1. Accurate: the response should describe only what the image shows and must not state anything the image does not support."
RM_FACTS_SENTENCE = " In particular, the response must be supported by the following facts about the image:"
FACT_BULLET = "  - "
RM_OTHER_CRITERIA = (
    "\n2. Helpful: the response should answer exactly what the user asked, grounded in the image.\n"
    "3. Natural language: the response should read fluently, without repetition or awkward phrasing.\n"
    "4. Concise: the response should give the needed information clearly and briefly.\n"
    "A good response is accurate, helpful, natural and concise."
)
RM_SCORE_SUFFIX_END = f"{ROLE_ASSISTANT}: Following these criteria, the quality score of my last response is"


def _check_turns(conversations: Sequence[dict[str, str]]) -> None:
    for i, turn in enumerate(conversations):
        if not isinstance(turn, dict):
            raise ValueError(f"conversations[{i}]: expected an object with 'from' and 'value'")
        speaker = turn.get("from")
        if speaker not in (HUMAN, GPT):
            raise ValueError(f"conversations[{i}].from: expected 'human' or 'gpt', got {speaker!r}")
        if not isinstance(turn.get("value"), str):
            raise ValueError(f"conversations[{i}].value: expected a string")


def _user(message: str) -> str:
    return f"{ROLE_USER}: {message}{SEP}"


def _assistant(message: str) -> str:
    return f"{ROLE_ASSISTANT}: {message}{SEP2}"


def policy_prompt(conversations: Sequence[dict[str, str]]) -> str:
    """System sentence + the first human turn + an open "ASSISTANT:" for generation."""
    _check_turns(conversations)
    for turn in conversations:
        if turn["from"] == HUMAN:
            return f"{SYSTEM_PROMPT}{SEP}{_user(turn['value'])}{ROLE_ASSISTANT}:"
    raise ValueError("conversations: no turn with from='human'")


def _dialogue_before_response(conversations: Sequence[dict[str, str]]) -> str:
    """Render the turns that precede the judged response.

    Trailing gpt turns are dropped (a preference record's last turn is the one being judged);
    what remains must alternate human/gpt, start with human and end with human.
    """
    _check_turns(conversations)
    turns = list(conversations)
    while turns and turns[-1]["from"] == GPT:
        turns.pop()
    if not turns:
        raise ValueError("conversations: no human turn before the response")
    parts = [SYSTEM_PROMPT, SEP]
    for i, turn in enumerate(turns):
        expected = HUMAN if i % 2 == 0 else GPT
        if turn["from"] != expected:
            raise ValueError(f"conversations[{i}].from: expected {expected!r} (turns must alternate, human first)")
        parts.append(_user(turn["value"]) if expected == HUMAN else _assistant(turn["value"]))
    return "".join(parts)


def _clean_facts(facts: Sequence[str], rng: random.Random | None) -> list[str]:
    # One fact per bullet line: collapse internal whitespace/newlines, drop empty facts.
    cleaned = [" ".join(str(fact).split()) for fact in facts]
    cleaned = [fact for fact in cleaned if fact]
    if rng is not None:
        rng.shuffle(cleaned)  # shuffles our copy only; the caller's list is untouched
    return cleaned


def rm_critique_suffix(facts: Sequence[str] | None, rng: random.Random | None = None) -> str:
    """The critique user turn plus the open assistant turn ending at RM_SCORE_SUFFIX_END.

    facts=None (or no non-empty fact) gives the plain-RLHF text without the facts sentence.
    With rng the facts are shuffled (per example, as in the paper); without it their order is kept.
    """
    accurate = RM_ACCURATE
    cleaned = _clean_facts(facts, rng) if facts is not None else []
    if cleaned:
        accurate += RM_FACTS_SENTENCE + "".join(f"\n{FACT_BULLET}{fact}" for fact in cleaned)
    return _user(RM_CRITIQUE_INTRO + accurate + RM_OTHER_CRITERIA) + RM_SCORE_SUFFIX_END


def rm_input(
    conversations: Sequence[dict[str, str]],
    response: str,
    facts: Sequence[str] | None,
    rng: random.Random | None = None,
) -> str:
    """Reward-model text: the dialogue, `response` as the last assistant turn, the critique suffix.

    `response` is plain decoded text (no "</s>"); surrounding whitespace is stripped. For PPO,
    pass the same turns the policy was prompted with (policy_prompt uses the first human turn).
    """
    dialogue = _dialogue_before_response(conversations)
    return dialogue + _assistant(response.strip()) + rm_critique_suffix(facts, rng)
