"""How well calibrated rules rank leads, against the shipped rules and two models, and how long calibration takes.

    .venv/bin/pip install -e '.[bench]'       # the bank data set comes with the empulse package
    .venv/bin/python scripts/bench_calibration.py [--synthetic 20000] [--timing 100000] [--seed 0]

For each data set, one seeded 70/30 split (``connector.learning.calibrate.split``, the split
``handoff calibrate`` makes itself), and the held-out AUC of:

- current rules: ``config/scoring.yaml`` through the scoring engine;
- calibrated: ``handoff calibrate`` on the whole file (it learns on the 70% and holds out the 30%),
  then ``handoff score`` with the proposed file on the held-out leads: the whole path, as commands;
- LR, all candidates: logistic regression on every candidate condition calibration could pick from;
- gradient boosting: scikit-learn's ``HistGradientBoostingClassifier`` on the raw features.

Data sets:

- synthetic: people from ``connector.sandbox.synthetic`` with their planted outcome (became an
  opportunity by now), drawn from the hidden model in ``connector.sandbox.outcomes``;
- bank: the bank telemarketing data shipped by the ``empulse`` package (37,931 clients of a
  Portuguese bank called about a term deposit; features known before the call only). Each client
  becomes a canonical lead: age, balance, occupation, marital status, education, credit in
  default, housing and personal loan, outcome of the previous campaign as properties, and the calls
  of earlier campaigns as ``call`` activities (the data has no dates: they are dated 60 days before
  the scoring time). The data stays in the package; nothing is written to the repository.

Then the time ``handoff calibrate`` takes on ``--timing`` synthetic labelled leads, with one
thread for the numeric libraries (target: under a minute on one core). The target for quality:
calibrated rules within 0.02 AUC of gradient boosting, with at most 15 integer rules.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from connector.config.ruleset import load_rules
from connector.learning.backtest import score_all
from connector.learning.calibrate import split, usable_columns
from connector.learning.candidates import CandidateOptions, find_candidates
from connector.learning.features import evaluate
from connector.learning.labelled import LabelledLead
from connector.model import Activity, Lead
from connector.sandbox.synthetic import generate_people

REPO = Path(__file__).resolve().parents[1]
RULES = REPO / "config" / "scoring.yaml"
HANDOFF = [sys.executable, "-m", "connector"]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HOLDOUT = 0.3
TARGET_GAP = 0.02
MAX_RULES = 15
#: one thread for numpy and scikit-learn: the timing is for one core
ONE_CORE = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass
class DataSet:
    name: str
    leads: list[LabelledLead]
    #: raw features for gradient boosting: one row per lead, and which columns are categorical
    raw: np.ndarray
    categorical: list[bool]


def _categories(values: Sequence[Any], keep: int = 200) -> np.ndarray:
    """Category codes for gradient boosting (NaN when missing); rare values share one code."""
    counts: dict[Any, int] = {}
    for v in values:
        if v is not None:
            counts[v] = counts.get(v, 0) + 1
    common = sorted(counts, key=lambda v: -counts[v])[:keep]
    code = {v: float(i) for i, v in enumerate(common)}
    return np.array([np.nan if v is None else code.get(v, float(keep)) for v in values])


# ------------------------------------------------------------------ synthetic


def _synthetic_raw(leads: Sequence[Lead]) -> tuple[np.ndarray, list[bool]]:
    """What the CRM holds, unengineered: properties, the email domain, and counts per kind of activity."""
    columns: list[np.ndarray] = []
    categorical: list[bool] = []
    for key in ("job_title", "industry", "country", "lead_source", "budget", "timeline", "need"):
        columns.append(_categories([lead.properties.get(key) for lead in leads]))
        categorical.append(True)
    columns.append(_categories([str(lead.properties.get("email", "")).rpartition("@")[2] for lead in leads]))
    categorical.append(True)
    size = [lead.properties.get("company_size") for lead in leads]
    columns.append(np.array([np.nan if s is None else float(s) for s in size]))
    categorical.append(False)
    now = NOW.timestamp()
    kinds = sorted({(a.type, _page(a)) for lead in leads for a in lead.activities})
    for kind in kinds:
        for days in (None, 30):
            columns.append(
                np.array(
                    [
                        sum(
                            a.count
                            for a in lead.activities
                            if (a.type, _page(a)) == kind and (days is None or now - a.ts <= days * 86400)
                        )
                        for lead in leads
                    ],
                    dtype=np.float64,
                )
            )
            categorical.append(False)
    return np.column_stack(columns), categorical


def _page(activity: Activity) -> str:
    """The page or the form name: what a raw export has for each activity."""
    if activity.url:
        return activity.url.rsplit("/", 1)[-1]
    return (activity.name or "").lower()


def synthetic(n: int, seed: int) -> DataSet:
    people = generate_people(n, seed, NOW)
    leads = [LabelledLead(p.lead, p.outcome.converted) for p in people]
    raw, categorical = _synthetic_raw([p.lead for p in people])
    return DataSet(f"synthetic ({n:,} people, seed {seed})", leads, raw, categorical)


# ---------------------------------------------------------------------- bank


def bank() -> DataSet | None:
    try:
        import pandas
        from empulse.datasets import load_upsell_bank_telemarketing
    except ImportError:
        print("bank: skipped (pip install -e '.[bench]' brings empulse and pandas)")
        return None
    data = load_upsell_bank_telemarketing(backend=pandas)
    frame, target = data.data, data.target.to_numpy().astype(bool)
    called = NOW - timedelta(days=60)
    leads = []
    for i, row in enumerate(frame.itertuples(index=False)):
        properties = {
            "age": int(row.age),
            "balance": int(row.balance),
            "occupation": row.job,
            "marital_status": row.marital,
            "education": None if row.education == "unknown" else row.education,
            "credit_in_default": bool(row.has_credit_in_default),
            "housing_loan": bool(row.has_housing_loan),
            "personal_loan": bool(row.has_personal_loan),
            "previous_outcome": None if row.previous_outcome == "unknown" else row.previous_outcome,
        }
        calls = (Activity("call", called, count=int(row.previous)),) if row.previous else ()
        leads.append(LabelledLead(Lead(f"b{i + 1}", properties, calls), bool(target[i])))
    raw_columns, categorical = [], []
    for column in frame.columns:
        values = frame[column].tolist()
        is_text = frame[column].dtype == object or str(frame[column].dtype) in ("str", "string", "category")
        raw_columns.append(_categories(values) if is_text else np.array(values, dtype=np.float64))
        categorical.append(bool(is_text))
    return DataSet(
        f"bank telemarketing ({len(leads):,} clients, empulse)", leads, np.column_stack(raw_columns), categorical
    )


# ------------------------------------------------------------------ measuring


def _write(path: Path, leads: Sequence[LabelledLead]) -> None:
    with path.open("w", encoding="utf-8") as stream:
        for item in leads:
            stream.write(json.dumps({**item.lead.to_json(), "converted": item.converted}) + "\n")


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*HANDOFF, *args], capture_output=True, text=True, cwd=REPO, env={**os.environ, **(env or {})}, check=False
    )
    if done.returncode not in (0, 1):
        sys.exit(f"handoff {args[0]} failed ({done.returncode}):\n{done.stderr}")
    return done


def _calibrated_auc(data: DataSet, test: np.ndarray, work: Path, seed: int) -> tuple[float, int, float]:
    """AUC of the proposed file on the held-out leads, the number of its rules, and calibration seconds."""
    everyone, held, proposed = work / "all.jsonl", work / "held-out.jsonl", work / "proposed.yaml"
    _write(everyone, data.leads)
    _write(held, [data.leads[i] for i in test])
    started = time.perf_counter()
    _run(
        [
            "calibrate",
            "--from",
            str(everyone),
            "--rules",
            str(RULES),
            "--now",
            NOW.isoformat(),
            "--holdout",
            str(HOLDOUT),
            "--seed",
            str(seed),
            "--max-rules",
            str(MAX_RULES),
            "--out",
            str(proposed),
        ]
    )
    seconds = time.perf_counter() - started
    scored = _run(["score", "--rules", str(proposed), "--now", NOW.isoformat(), str(held)])
    scores = [json.loads(line)["score"] for line in scored.stdout.splitlines()]
    labels = [data.leads[i].converted for i in test]
    rules = len(load_rules(proposed).file.scorecard)
    return float(roc_auc_score(labels, scores)), rules, seconds


def _lr_all(data: DataSet, train: np.ndarray, test: np.ndarray, seed: int) -> tuple[float, int]:
    rules = load_rules(RULES)
    train_leads = [data.leads[i].lead for i in train]
    test_leads = [data.leads[i].lead for i in test]
    options = CandidateOptions()
    found = find_candidates(train_leads, NOW, rules.file, options)
    x_train = evaluate(found.conditions, train_leads, NOW, rules.file.lists)
    keep = usable_columns(x_train, options.support(len(train)))
    x_test = evaluate([found.conditions[j] for j in keep], test_leads, NOW, rules.file.lists)
    y_train = np.array([data.leads[i].converted for i in train])
    model = LogisticRegression(C=1.0, max_iter=5000, random_state=seed).fit(x_train[:, keep], y_train)
    labels = [data.leads[i].converted for i in test]
    return float(roc_auc_score(labels, model.predict_proba(x_test)[:, 1])), len(keep)


def _gradient_boosting(data: DataSet, train: np.ndarray, test: np.ndarray, seed: int) -> float:
    y = np.array([item.converted for item in data.leads])
    model = HistGradientBoostingClassifier(categorical_features=np.array(data.categorical), random_state=seed)
    model.fit(data.raw[train], y[train])
    return float(roc_auc_score(y[test], model.predict_proba(data.raw[test])[:, 1]))


def _current(data: DataSet, test: np.ndarray) -> float:
    held = [data.leads[i] for i in test]
    scores = [q.score for q in score_all(held, load_rules(RULES).compiled, NOW)]
    return float(roc_auc_score([item.converted for item in held], scores))


def measure(data: DataSet, seed: int) -> dict[str, Any]:
    converted = np.array([item.converted for item in data.leads])
    train, test = split(converted, HOLDOUT, seed)
    with tempfile.TemporaryDirectory() as work:
        calibrated, rules, seconds = _calibrated_auc(data, test, Path(work), seed)
    lr, candidates = _lr_all(data, train, test, seed)
    return {
        "data": data.name,
        "rate": float(converted.mean()),
        "current": _current(data, test),
        "calibrated": calibrated,
        "rules": rules,
        "lr": lr,
        "candidates": candidates,
        "gbm": _gradient_boosting(data, train, test, seed),
        "seconds": seconds,
    }


def timing(n: int, seed: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds ``handoff calibrate`` takes on ``n`` synthetic labelled leads (one thread)."""
    people = generate_people(n, seed, NOW)
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "leads.jsonl"
        _write(path, [LabelledLead(p.lead, p.outcome.converted) for p in people])
        del people
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        _run(
            [
                "calibrate",
                "--from",
                str(path),
                "--rules",
                str(RULES),
                "--now",
                NOW.isoformat(),
                "--out",
                f"{work}/p.yaml",
            ],
            ONE_CORE,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime - used.ru_utime) + (after.ru_stime - used.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synthetic", type=int, default=20_000, help="synthetic people (default 20,000)")
    parser.add_argument("--timing", type=int, default=100_000, help="labelled leads to time calibration on (0: skip)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-bank", action="store_true")
    args = parser.parse_args()

    sets = [synthetic(args.synthetic, args.seed + 1)]
    if not args.skip_bank and (found := bank()) is not None:
        sets.append(found)
    print(f"held-out AUC on a seeded {1 - HOLDOUT:.0%}/{HOLDOUT:.0%} split (seed {args.seed})")
    header = f"{'data set':44} {'conv.':>6} {'current':>8} {'calibrated':>11} {'rules':>5} {'LR all':>7} {'GBM':>7} {'gap':>6}  ok"
    print(header)
    failed = False
    for data in sets:
        row = measure(data, args.seed)
        gap = row["gbm"] - row["calibrated"]
        ok = gap <= TARGET_GAP and row["rules"] <= MAX_RULES
        failed |= not ok
        print(
            f"{row['data']:44} {row['rate']:6.1%} {row['current']:8.3f} {row['calibrated']:11.3f} {row['rules']:5d}"
            f" {row['lr']:7.3f} {row['gbm']:7.3f} {gap:6.3f}  {'yes' if ok else 'NO'}"
            f"   (calibrate {row['seconds']:.1f} s; LR over {row['candidates']} candidates)"
        )
    if args.timing:
        wall, cpu = timing(args.timing, args.seed + 2)
        print(
            f"handoff calibrate on {args.timing:,} labelled leads, one thread: {cpu:.1f} s of CPU,"
            f" {wall:.1f} s wall clock (target under 60 s on one core)"
        )
        failed |= cpu >= 60
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
