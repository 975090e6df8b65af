"""(Re)build the cached embeddings in data/embeddings/.

    python scripts/build_cache.py                      # movies and words, active provider (API_HOST)
    python scripts/build_cache.py movies --host openai # one dataset, another provider
    python scripts/build_cache.py words --dimensions 256
    python scripts/build_cache.py --host sentence-transformers   # the shipped MiniLM caches (needs
                                                                 # scripts/requirements-build.txt)

Only what is missing is sent: new or edited rows, and what an interrupted run did not reach.
Progress is saved after each request in <cache>.partial, and the cache is replaced only when
complete, so an interrupted or failed run loses nothing. --force re-embeds everything. A cache is
never overwritten with another model's vectors. With a hosted provider, requests are paced to
its per-minute limit, and a rate limit is waited out with a countdown in the progress bar.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "notebooks"))

import embeddings_helper as eh  # noqa: E402


def positive_int(text: str) -> int:
    if not (text.isascii() and text.isdigit() and int(text) > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="*", metavar="DATASET", help="movies and/or words (default: both)")
    parser.add_argument("--host", choices=[*eh.API_HOSTS, "sentence-transformers"], help="overrides API_HOST")
    parser.add_argument("--model", help="overrides the host's model variable")
    parser.add_argument("--dimensions", type=positive_int, help="shortened vectors (text-embedding-3, local model)")
    parser.add_argument("--force", action="store_true", help="re-embed everything instead of resuming")
    args = parser.parse_args(argv)
    args.datasets = args.datasets or list(eh.DATASETS)
    unknown = sorted(set(args.datasets) - set(eh.DATASETS))
    if unknown:
        parser.error(f"unknown dataset {', '.join(unknown)}: use {' or '.join(eh.DATASETS)}")

    try:
        if args.host == "sentence-transformers":
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            provider = eh.Provider("sentence-transformers", args.model or eh.MINILM_MODEL)
        else:
            provider = eh.get_provider(host=args.host)
            if args.model:
                provider = dataclasses.replace(provider, model=args.model)
        print(eh.describe_provider(provider) if provider.host in eh.API_HOSTS else f"Embeddings: {provider.model}")
        for dataset in args.datasets:
            result = eh.build_cache(dataset, provider, args.dimensions, force=args.force)
            where = result.info["path"] or "memory only (see the warning above)"
            print(f"{where}: {len(result)} vectors of {result.dimensions} dimensions")
    except (eh.EmbeddingsError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"error: {err.strerror or err} ({err.filename or 'no file name'}).", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: what was embedded is kept; run the same command again to continue.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
