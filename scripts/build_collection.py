"""(Re)build the shipped vectors of the collection of short texts, data/sentences.csv.

    python scripts/build_collection.py            # both languages, the default local model
    git add -f data/embeddings/collection/        # the files are ignored unless added on purpose

Each language's texts are embedded in-process by the default local model (about 4 ms a text on
two cores) and saved in data/embeddings/collection/ as sentences-<language>__<model>.npy (2-byte floats)
with a .json record beside it: the model, the count and a SHA-256 of the texts. A file that
already matches the texts is left alone; the lessons and the tests refuse one that does not.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "notebooks"))

from embeddings_helper import LOCAL_MODEL, SHIPPED_DIR, corpus  # noqa: E402


def main() -> int:
    for language in corpus.LANGUAGES:
        start = time.perf_counter()
        matrix = corpus.vectors(language, LOCAL_MODEL, folder=SHIPPED_DIR)
        path = corpus.vectors_path(language, LOCAL_MODEL, SHIPPED_DIR)
        print(f"{path.relative_to(SHIPPED_DIR.parent.parent)}: {matrix.shape[0]} × {matrix.shape[1]}, "
              f"{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
