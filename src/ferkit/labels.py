"""The emotion classes of FER2013 and FER+, their order, and the mapping between them.

This is the only module that spells a class name; everything else imports from here.
"""

from __future__ import annotations

from ferkit.errors import UnknownName

# FER2013's integer labels 0..6, in dataset order.
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
NUM_CLASSES = len(EMOTIONS)

# FER+ (fer2013new.csv) vote columns, in file order. The first eight are emotions,
# the last two are "unknown" and "not a face" (NF).
FERPLUS_VOTE_COLUMNS: tuple[str, ...] = (
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
    "unknown",
    "NF",
)
FERPLUS_EMOTIONS: tuple[str, ...] = FERPLUS_VOTE_COLUMNS[:8]
FERPLUS_UNKNOWN = 8
FERPLUS_NOT_A_FACE = 9

# FER+ emotion index -> FER2013 emotion index (contempt has no FER2013 class).
FERPLUS_TO_FER2013: dict[int, int | None] = {
    0: EMOTIONS.index("neutral"),
    1: EMOTIONS.index("happy"),
    2: EMOTIONS.index("surprise"),
    3: EMOTIONS.index("sad"),
    4: EMOTIONS.index("angry"),
    5: EMOTIONS.index("disgust"),
    6: EMOTIONS.index("fear"),
    7: None,
}

# The official FER2013 splits, by the file's `Usage` column. "Test" is Kaggle's unlabelled
# test.csv / test/ folder when the file does not say which official split a face belongs to.
SPLITS: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest", "Test")
TRAIN_SPLIT, SELECT_SPLIT, REPORT_SPLIT = "Training", "PublicTest", "PrivateTest"


# FER+ calls FER2013's splits by other names; "Test" is Kaggle's unlabelled challenge file, not FER+'s Test.
FERPLUS_SPLIT_HINT = "FER+ Valid is PublicTest and FER+ Test is PrivateTest"


def split_name(name: str) -> str:
    """The official spelling of a split named in any case ('privatetest' -> 'PrivateTest')."""
    for split in SPLITS:
        if split.lower() == name.strip().lower():
            return split
    hint = f" ({FERPLUS_SPLIT_HINT})" if name.strip().lower() in ("valid", "validation", "val") else ""
    raise UnknownName(f"unknown split {name!r}{hint}; choose one of: {', '.join(SPLITS)}")


def emotion_index(name: str) -> int:
    """Index of a FER2013 class name, accepting any case and FER+ synonyms ('happiness', 'anger')."""
    key = name.strip().lower()
    if key in EMOTIONS:
        return EMOTIONS.index(key)
    for i, plus in enumerate(FERPLUS_EMOTIONS):
        if key == plus.lower() and FERPLUS_TO_FER2013[i] is not None:
            return FERPLUS_TO_FER2013[i]  # type: ignore[return-value]
    raise UnknownName(f"unknown emotion {name!r}; expected one of {', '.join(EMOTIONS)}")
