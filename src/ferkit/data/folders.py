"""Read image-folder datasets: `train/<class>/*.jpg` and `test/<class>/*.jpg` (any size, any colour)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ferkit.data.errors import DataError
from ferkit.data.faceset import UNKNOWN_LABEL, FaceSet
from ferkit.data.images import IMAGE_SUFFIXES, read_face_image
from ferkit.labels import SPLITS, emotion_index

# Folder name (lower case) -> split. Kaggle's folder copy has train/ and test/; test/ mixes both
# official test splits, and its file names (PublicTest_123.jpg) say which.
SPLIT_FOLDERS = {
    "train": "Training",
    "training": "Training",
    "val": "PublicTest",
    "valid": "PublicTest",
    "validation": "PublicTest",
    "publictest": "PublicTest",
    "test": "Test",
    "privatetest": "PrivateTest",
}


def looks_like_image_folders(root: Path) -> bool:
    return root.is_dir() and any(p.is_dir() and p.name.lower() in SPLIT_FOLDERS for p in root.iterdir())


def list_images(root: Path) -> list[tuple[Path, str, int]]:
    """(file, split, label) for every image under root, in a stable order."""
    items: list[tuple[Path, str, int]] = []
    split_dirs = sorted(p for p in root.iterdir() if p.is_dir() and p.name.lower() in SPLIT_FOLDERS)
    if not split_dirs:
        expected = ", ".join(sorted({*SPLIT_FOLDERS}))
        raise DataError(root, f"no split folders found; expected sub-folders named {expected}")
    for split_dir in split_dirs:
        folder_split = SPLIT_FOLDERS[split_dir.name.lower()]
        for class_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
            try:
                label = emotion_index(class_dir.name)
            except KeyError as e:
                raise DataError(class_dir, f"not a class folder: {e.args[0]}") from None
            for file in sorted(class_dir.iterdir()):
                if file.is_file() and file.suffix.lower() in IMAGE_SUFFIXES:
                    items.append((file, _split_from_name(file.name, folder_split), label))
    if not items:
        raise DataError(root, "no images found in the split/class folders")
    return items


def _split_from_name(name: str, folder_split: str) -> str:
    prefix = name.split("_", 1)[0]
    return prefix if prefix in SPLITS[:3] else folder_split


def read_image_folders(root: Path, items: list[tuple[Path, str, int]] | None = None) -> FaceSet:
    """Decode every image (threads: OpenCV releases the GIL while decoding)."""
    items = items if items is not None else list_images(root)
    with ThreadPoolExecutor(max_workers=4) as pool:
        faces = list(pool.map(lambda item: read_face_image(item[0]), items, chunksize=256))
    labels = np.array([label for _, _, label in items], dtype=np.int8)
    splits = np.array([SPLITS.index(split) for _, split, _ in items], dtype=np.uint8)
    assert labels.min() > UNKNOWN_LABEL
    return FaceSet(faces=np.stack(faces), labels=labels, split_codes=splits, source=str(root))
