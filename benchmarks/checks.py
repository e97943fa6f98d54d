"""The checks: what a run may write (judges) and the targets a case must meet.

A judge reads what one lo-sync run wrote into `run.rows` and `run.notes`, and
marks its verdict in `run.rows["_ok"]` or `run.rows["_untouched"]`. A target
turns a case's runs into one PASS/FAIL line, or None when the case has no run
to judge. cases.py names both by the keys of JUDGES and TARGETS.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from cases import (
    DRY_TOLERANCE,
    FLAT_MEMORY,
    MEMORY_LIMIT_MB,
    RERUN_FRACTION,
    TargetSpec,
)
from measure import Run
from results import Case, Target
from rows_written import describe_rows, file_hash, table_diff, table_hashes

# -- judges: what one run wrote -----------------------------------------------------------


def from_empty(run: Run, db: Path, start: Path | None) -> None:
    run.rows = table_diff(None, db)


def wrote_only_run_records(run: Run, db: Path, start: Path | None) -> None:
    """A rerun with nothing changed: every table's content as before but the run records."""
    hashes = table_hashes(start)
    run.rows = table_diff(start, db)
    changed = [t for t, h in table_hashes(db).items() if hashes.get(t) != h]
    run.notes.append(
        "tables changed (content hash, sync_runs aside): " + (", ".join(changed) or "none")
    )
    ok = (
        not changed
        and run.rows["sync_runs"]["added"] == 2
        and run.rows["sync_runs"]["removed"] == 0
        and all(d["added"] == d["removed"] == 0 for t, d in run.rows.items() if t != "sync_runs")
    )
    run.notes.append(f"writes nothing but the run records: {ok}")
    run.rows["_ok"] = {"ok": int(ok)}


def wrote_only_changed_rows(run: Run, db: Path, start: Path | None) -> None:
    """Only the changed rows (plus their history and one run record) may be written."""
    run.rows = rows = table_diff(start, db)
    progress = rows.get("progress", {})
    n = progress.get("after", 0)
    changed = progress.get("added", 0)
    bound = max(10, int(n * RERUN_FRACTION * 1.5))
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    run_id = conn.execute("SELECT max(id) FROM sync_runs").fetchone()[0]
    touched = conn.execute(
        "SELECT count(*) FROM progress WHERE last_run_id = ?", (run_id,)
    ).fetchone()[0]
    history_keys = conn.execute(
        "SELECT count(*) FROM (SELECT DISTINCT provider, course_external_id, learner_key "
        "FROM progress_history WHERE run_id = ?)",
        (run_id,),
    ).fetchone()[0]
    conn.close()
    others = [
        t
        for t, d in rows.items()
        if t not in ("progress", "progress_history", "sync_runs") and (d["added"] or d["removed"])
    ]
    ok = (
        progress.get("before") == n
        and 0 < changed <= bound
        and progress.get("removed") == changed
        and touched == changed
        and rows.get("sync_runs", {}).get("added") == 1
        and rows.get("sync_runs", {}).get("removed") == 0
        and rows.get("progress_history", {}).get("removed") == 0
        and history_keys <= changed
        and not others
    )
    run.notes.append(
        f"{changed:,} of {n:,} progress rows changed ({changed / max(n, 1):.2%}, bound "
        f"{bound:,}); {touched:,} carry the new run id; history for {history_keys:,} rows; "
        f"other tables touched: {', '.join(others) or 'none'}"
    )
    run.rows["_ok"] = {"ok": int(ok), "before": 0, "after": 0, "added": 0, "removed": 0}


def left_the_file_untouched(run: Run, db: Path, start: Path | None) -> None:
    same = file_hash(db) == file_hash(start)
    run.rows = {} if same else table_diff(start, db)
    run.rows["_untouched"] = {"ok": int(same)}
    run.notes.append(f"database file byte-identical after the dry run: {same}")


JUDGES: dict[str, Callable[[Run, Path, Path | None], None]] = {
    "from_empty": from_empty,
    "wrote_only_run_records": wrote_only_run_records,
    "wrote_only_changed_rows": wrote_only_changed_rows,
    "left_the_file_untouched": left_the_file_untouched,
}


# -- targets: what a case's runs must meet -------------------------------------------------


def peak_memory(spec: TargetSpec, case: Case, other: Case | None) -> Target:
    return Target(
        f"peak memory < {MEMORY_LIMIT_MB:.0f} MB",
        f"{case.peak_mb:.0f} MB",
        case.peak_mb < MEMORY_LIMIT_MB,
    )


def wrote_as_judged(spec: TargetSpec, case: Case, other: Case | None) -> Target:
    last = case.losync[-1]
    notes = last.notes if spec.notes_shown is None else last.notes[: spec.notes_shown]
    return Target(
        spec.text,
        describe_rows(last.rows) + "; " + "; ".join(notes),
        all(r.rows.get("_ok", {}).get("ok") == 1 for r in case.losync),
    )


def flat_memory(spec: TargetSpec, case: Case, other: Case) -> Target:
    grow = case.peak_mb / other.peak_mb
    return Target(
        f"memory flat: {case.records:,}-row peak <= {FLAT_MEMORY}x the {other.records:,}-row peak",
        f"{case.peak_mb:.0f} MB vs {other.peak_mb:.0f} MB = {grow:.2f}x",
        grow <= FLAT_MEMORY,
    )


def time_ratio(spec: TargetSpec, case: Case, other: Case | None) -> Target:
    return Target(
        spec.text,
        f"{case.ratio:.2f}x ({case.median(case.losync, 'wall'):.2f}s vs "
        f"{case.median(case.floors, 'wall'):.2f}s)",
        case.ratio <= spec.limit,
    )


def dry_run_costs_no_more(spec: TargetSpec, dry: Case, real: Case) -> Target:
    # Cost is compared in CPU time: wall time on a shared machine also counts
    # the seconds another process held the CPU (see the `waiting s` column).
    real_c, dry_c = real.median(real.losync, "cpu"), dry.median(dry.losync, "cpu")
    real_t, dry_t = real.median(real.losync, "wall"), dry.median(dry.losync, "wall")
    real_m, dry_m = real.peak_mb, dry.peak_mb
    return Target(
        f"dry run costs no more than the real run (CPU time and memory, "
        f"{DRY_TOLERANCE - 1:.0%} noise allowance)",
        f"CPU {dry_c:.2f}s vs {real_c:.2f}s = {dry_c / real_c:.2f}x "
        f"(wall {dry_t:.2f}s vs {real_t:.2f}s = {dry_t / real_t:.2f}x); "
        f"memory {dry_m:.0f} MB vs {real_m:.0f} MB = {dry_m / real_m:.2f}x",
        dry_c <= real_c * DRY_TOLERANCE and dry_m <= real_m * DRY_TOLERANCE,
    )


def dry_run_writes_nothing(spec: TargetSpec, case: Case, other: Case | None) -> Target:
    untouched = all(r.rows["_untouched"]["ok"] for r in case.losync)
    return Target(
        "dry run writes nothing",
        "database file byte-identical" if untouched else "database file changed",
        untouched,
    )


def speed_up(spec: TargetSpec, case: Case, slower: Case) -> Target:
    fast, slow = case.median(case.losync, "wall"), slower.median(slower.losync, "wall")
    return Target(
        spec.text,
        f"{slow / fast:.2f}x ({slow:.2f}s at concurrency {slower.spec.concurrency} vs "
        f"{fast:.2f}s at {case.spec.concurrency})",
        slow / fast >= spec.limit,
    )


def settles_within(spec: TargetSpec, case: Case, other: Case | None) -> Target:
    """lo-sync's own word (its -v line) on where its paging settled, and the simulator's
    count of the most requests it saw in flight at once."""
    settled = [r.paging.get("settled") for r in case.losync]
    said = [n for n in settled if n is not None]
    sim = [r.sim_counters.get("max_in_flight") for r in case.losync]
    answered = [r.sim_counters.get("throttled") for r in case.losync]
    return Target(
        spec.text,
        (f"settled at {max(said)}" if said else "no `settled at` line in lo-sync's -v stderr")
        + f"; simulator: at most {_most(sim)} in flight, {_most(answered)} throttled (429)",
        len(said) == len(settled) and max(said) <= spec.limit,
    )


def _most(values: list) -> str:
    known = [v for v in values if v is not None]
    return str(max(known)) if known else "?"


def same_rows(spec: TargetSpec, case: Case, other: Case | None) -> Target:
    """Completes, and writes the progress rows of the first run on the same report (run.py
    compares each first night's progress table with the first one on its data)."""
    same = [r.rows.get("_same") for r in case.losync]
    done = all(r.rc == 0 for r in case.losync)
    refs = sorted({s["of"] for s in same if s})
    ok = done and all(s is None or s["ok"] for s in same)
    if not done:
        measured = "exit " + ", ".join(str(r.rc) for r in case.losync)
    elif refs:
        verdict = "identical" if ok else "DIFFERENT"
        measured = f"progress rows {verdict} to {', '.join(refs)}'s (content hash)"
    else:
        measured = "the first run on this report: the reference for later runs"
    return Target("completes, with the same progress rows as a run before it", measured, ok)


TARGETS: dict[str, Callable[[TargetSpec, Case, Case | None], Target]] = {
    "peak_memory": peak_memory,
    "wrote_as_judged": wrote_as_judged,
    "flat_memory": flat_memory,
    "time_ratio": time_ratio,
    "dry_run_costs_no_more": dry_run_costs_no_more,
    "dry_run_writes_nothing": dry_run_writes_nothing,
    "speed_up": speed_up,
    "settles_within": settles_within,
    "same_rows": same_rows,
}


def judge_targets(specs: tuple[TargetSpec, ...], cases: dict[str, Case]) -> None:
    """Add each target to its case, where the case (and the one it compares with) ran."""
    for spec in specs:
        case = cases.get(spec.case)
        other = cases.get(spec.other) if spec.other else None
        if case is None or not case.losync or (spec.other and (other is None or not other.losync)):
            continue
        case.targets.append(TARGETS[spec.check](spec, case, other))
