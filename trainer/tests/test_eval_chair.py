"""CHAIR on hand-written captions, and the object-mention extractor behind it."""

import pytest

from fact_rlhf.eval.chair import ObjectVocabulary, chair_from_texts, chair_scores, plurals

VOCAB = ObjectVocabulary(
    {
        "dog": ["puppy"],
        "cat": ["kitten"],
        "person": ["man", "woman", "child"],
        "hot dog": [],
        "bus": [],
        "bus stop": [],
        "traffic light": [],
        "dining table": ["table"],
        "bench": [],
        "knife": [],
    }
)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("dog", ("dogs",)),
        ("bus", ("buses",)),
        ("box", ("boxes",)),
        ("bench", ("benches",)),
        ("pony", ("ponies",)),
        ("toy", ("toys",)),
        ("knife", ("knives", "knifes")),
        ("man", ("men",)),
        ("person", ("people", "persons")),
        ("sheep", ("sheep",)),
    ],
)
def test_plurals(word: str, expected: tuple[str, ...]) -> None:
    assert plurals(word) == expected


def test_extractor_handles_synonyms_plurals_and_phrases() -> None:
    text = "Two Puppies, a HOT DOG and three buses; people, a Man, children and knives."
    assert VOCAB.extract(text) == ["dog", "hot dog", "bus", "person", "person", "person", "knife"]
    first = VOCAB.mentions(text)[0]
    assert (first.obj, first.start, first.end, first.text) == ("dog", 4, 11, "Puppies")
    assert VOCAB.extract("A bus at the bus stops.") == ["bus", "bus stop"]  # the longest phrase wins
    assert VOCAB.extract("The dogma of doghouses") == []  # whole words only
    assert VOCAB.canonical("Traffic Lights") == "traffic light"
    assert VOCAB.canonical("giraffe") is None


def test_conflicting_vocabulary_is_rejected() -> None:
    with pytest.raises(ValueError, match="'mouse' names both 'mouse' and 'computer mouse'"):
        ObjectVocabulary({"mouse": [], "computer mouse": ["mouse"]})
    # A written entry wins over a generated plural: "glasses" stays its own object.
    vocab = ObjectVocabulary({"glass": [], "glasses": ["spectacles"]})
    assert vocab.extract("glasses and a glass") == ["glasses", "glass"]


CAPTIONS = [
    "A man walks two puppies past a bench.",  # person, dog, bench: all there
    "A kitten sleeps on the table next to a hot dog.",  # cat, dining table, hot dog (not there)
    "Buses wait at the traffic lights while a woman and her dog cross.",  # bus, traffic light ✗, person, dog ✗
    "An empty street at night.",  # no objects
]
TRUTH = [
    ["person", "dog", "bench"],
    ["Cat", "Dining Table"],
    ["buses", "woman"],  # labels given as plural / synonym map to canonical names
    ["bus"],
]


def test_chair_on_hand_written_captions() -> None:
    scores = chair_from_texts(VOCAB, CAPTIONS, TRUTH)
    assert scores["mentions"] == 10
    assert scores["hallucinated_mentions"] == 3
    assert scores["chair_i"] == pytest.approx(0.3)
    assert scores["responses"] == 4
    assert scores["hallucinated_responses"] == 2
    assert scores["chair_s"] == pytest.approx(0.5)
    assert scores["hallucinated"] == [[], ["hot dog"], ["traffic light", "dog"], []]


def test_chair_counts_every_mention() -> None:
    scores = chair_scores([["cat", "cat", "dog"], ["dog"]], [{"dog"}, {"dog"}])
    assert scores["chair_i"] == pytest.approx(2 / 4)
    assert scores["chair_s"] == pytest.approx(1 / 2)


def test_chair_edge_cases() -> None:
    assert chair_scores([[], []], [[], ["dog"]])["chair_i"] == 0.0
    with pytest.raises(ValueError, match="2 responses but 1 ground-truth"):
        chair_scores([[], []], [[]])
    with pytest.raises(ValueError, match="no responses"):
        chair_scores([], [])
