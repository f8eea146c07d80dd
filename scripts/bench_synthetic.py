#!/usr/bin/env python3
"""How fast the synthetic people every sandbox seeds from are made, and whether they stay the same.

    .venv/bin/python scripts/bench_synthetic.py [--people 100000] [--seed 1] [--repeat 3] [--digest]

Generates ``--people`` people with their activities and outcomes (``synthetic.generate``,
the CRM-independent part of a sandbox's start-up) ``--repeat`` times with the cyclic
collector paused, as the sandboxes do, and prints the process CPU seconds and wall seconds
of the fastest run, people per CPU-second and activities per person. CPU seconds depend far
less on a shared machine's load than wall seconds: compare runs taken at the same time.
``--digest`` also prints a SHA-256 of everything generated (every field of every person,
activity and outcome): the same seed must give the same digest before and after a change
to the generator. The target: 100,000 people in well under 10 CPU seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from datetime import UTC, datetime

from connector.sandbox.collector import collector_paused
from connector.sandbox.synthetic import Population, generate

#: a fixed moment with microseconds, so the digest also covers the rounding of every timestamp
NOW = datetime(2026, 11, 30, 15, 0, 0, 500, tzinfo=UTC)


def digest(population: Population) -> str:
    """SHA-256 of the population's full representation (activity epoch seconds included)."""
    h = hashlib.sha256(repr(population.owners).encode())
    for person in population.people:
        h.update(repr(person).encode())
        h.update(repr([a.ts for a in person.lead.activities]).encode())
    return h.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the fastest counts")
    parser.add_argument("--digest", action="store_true", help="print a SHA-256 of the generated data")
    args = parser.parse_args()
    best: tuple[float, float] | None = None
    population = None
    for _ in range(args.repeat):
        population = None  # the previous run's people are not in this run's memory
        with collector_paused():
            cpu, wall = time.process_time(), time.perf_counter()
            population = generate(args.people, args.seed, NOW)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if best is None or cpu < best[0]:
            best = (cpu, wall)
    assert best is not None and population is not None
    cpu, wall = best
    activities = sum(len(p.lead.activities) for p in population.people)
    if args.digest:
        print(f"digest (seed {args.seed}, {args.people} people): {digest(population)}")
    print(f"activities per person: {activities / max(1, args.people):.2f}")
    print(f"wall seconds: {wall:.2f}")
    print(f"people per CPU-second: {args.people / cpu:,.0f}")
    print(f"CPU seconds for {args.people:,} people: {cpu:.2f}")


if __name__ == "__main__":
    main()
