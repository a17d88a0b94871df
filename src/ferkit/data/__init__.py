"""Read FER2013 / FER+ in every layout users have into a FaceSet (numpy only, no torch)."""

from ferkit.data.errors import DataError
from ferkit.data.faceset import FACE_SIZE, UNKNOWN_LABEL, FaceSet
from ferkit.data.ferplus import ferplus_distribution, ferplus_majority, not_a_face
from ferkit.data.label_space import split_with_labels, split_with_votes, training_prior
from ferkit.data.load import load_faces

__all__ = [
    "FACE_SIZE",
    "UNKNOWN_LABEL",
    "DataError",
    "FaceSet",
    "ferplus_distribution",
    "ferplus_majority",
    "load_faces",
    "not_a_face",
    "split_with_labels",
    "split_with_votes",
    "training_prior",
]
