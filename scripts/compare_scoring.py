"""Whether the scoring core in this tree gives byte-identical results to the one at a git ref.

    .venv/bin/python scripts/compare_scoring.py [--against main] [--leads 4000] [--seeds 1 2 3 7]

For optimising the engine: the ref's ``connector``, ``config`` and ``scripts`` are exported
to a temporary directory, and each side scores the same synthetic leads (the bench's
generator, every seed with and without unique URLs, at two clocks) in a process of its
own. Each side prints a digest of every result's JSON and of its repr (which also holds
each reason's points); the script exits 1 when they differ.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: runs in a child process with the tree to import first on sys.argv[1]
SIDE = r"""
import hashlib, json, random, sys
from datetime import timedelta
sys.path.insert(0, sys.argv[1])
import scripts.bench_scoring as bench
from connector.config.ruleset import load_rules
from connector.scoring import score

rules = load_rules(bench.RULES_PATH).compiled
as_json, as_repr = hashlib.sha256(), hashlib.sha256()
for seed in map(int, sys.argv[3:]):
    for unique_urls in (False, True):
        rng = random.Random(seed)
        for i in range(int(sys.argv[2])):
            lead = bench.synthetic_lead(rng, 100_000 + i, unique_urls)
            for now in (bench.NOW, bench.NOW + timedelta(days=3, seconds=17)):
                q = score(lead, rules, now)
                as_json.update(json.dumps(q.to_json()).encode() + b"\n")
                as_repr.update(repr(q).encode() + b"\n")
print(as_json.hexdigest(), as_repr.hexdigest())
"""


def digests(tree: Path, leads: int, seeds: list[int]) -> str:
    """The digests of the results the scoring core in ``tree`` gives."""
    argv = [sys.executable, "-c", SIDE, str(tree), str(leads), *map(str, seeds)]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", default="main", help="git ref to compare with (default main)")
    parser.add_argument("--leads", type=int, default=4000, help="leads per seed and URL mode (default 4000)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 7])
    args = parser.parse_args()

    archive = subprocess.run(
        ["git", "archive", args.against, "connector", "config", "scripts"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tempfile.TemporaryDirectory() as other:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(other, filter="data")
        before = digests(Path(other), args.leads, args.seeds)
    after = digests(ROOT, args.leads, args.seeds)
    print(f"{args.against}: {before}\nthis tree: {after}")
    print("identical" if before == after else "DIFFERENT")
    sys.exit(0 if before == after else 1)


if __name__ == "__main__":
    main()
