"""The benchmark suite (benchmarks/): its generator, its references, its stopwatch and its page.

No speed is asserted (benchmarks measure speed, tests never do). These tests check that the
suite measures what it says: the transaction generator reproduces the reference harness's table,
every reference engine computes the same thing as crmcore, one measurement reports the memory a
call really needs, and the runner goes end to end into the generated page.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"

pytestmark = [
    pytest.mark.skipif(
        any(importlib.util.find_spec(m) is None for m in ("duckdb", "polars", "pyarrow")),
        reason="the bench extra (duckdb, polars, pyarrow) is not installed",
    ),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the suite reads /proc"),
]

STEPS = {
    "btyd_summary",
    "rfm_summary",
    "btyd_summary_dask",
    "fit_bg_nbd",
    "fit_pareto_nbd",
    "rfm_scores",
    "rfm_segments",
    "abc_classes",
    "customer_grades",
    "weighted_pipeline",
    "close_schedule",
    "simulate_pipeline",
    "apportion_hamilton",
    "apportion_webster",
    "score_scorecard",
    "commission_statement",
}

# table_digest of the generator's table (values, names and types), recorded from the reference
# harness's gen_transactions.py; at 10M rows / 1M customers it is
# 24982e7370b8070216920178fc2ef1990a73e92be7d07a56a1acb8d408819a57 (both generators).
DIGESTS = {
    (10_000, 1_000): "9e42d90600d347b5312cebef6d6c359c2edce95b4c5a56865aecca95db94780c",
    (200_000, 20_000): "a613214f596c3cb4f73d45744a8bb76aa82ad031709d541b11e7c293c815076b",
}


@pytest.fixture(scope="module")
def bench() -> Iterator[Any]:
    """The benchmarks folder on sys.path; yields its modules as a namespace."""
    sys.path.insert(0, str(BENCH))
    try:
        import _data
        import _harness
        import _report
        import steps

        yield type(
            "Bench", (), {"data": _data, "harness": _harness, "report": _report, "steps": steps}
        )
    finally:
        sys.path.remove(str(BENCH))


def _shared_bench() -> Path | None:
    """The reference harness's folder (``shared/bench``) beside the checkout, if present."""
    env = os.environ.get("CRMCORE_SHARED_BENCH")
    candidates = [Path(env)] if env else []
    candidates += [p / "shared" / "bench" for p in (ROOT.parent, ROOT.parent.parent)]
    return next((p for p in candidates if (p / "gen_transactions.py").exists()), None)


# --------------------------------------------------------------------------- the input


@pytest.mark.parametrize(("rows", "customers"), sorted(DIGESTS))
def test_generator_matches_recorded_digest(bench: Any, rows: int, customers: int) -> None:
    table = bench.data.transactions_table(rows, customers)
    assert bench.data.table_digest(table) == DIGESTS[(rows, customers)]


def test_generator_shape(bench: Any) -> None:
    import numpy as np

    cols = bench.data.transactions_columns(20_000, 2_000)
    ids, dates = cols["customer_id"], cols["date"]
    assert ids.dtype == np.int64
    assert dates.dtype == np.dtype("datetime64[ns]")
    assert len(np.unique(ids)) == 2_000  # every customer has a row
    assert ids.max() - ids.min() > 2_000  # sparse ids
    assert bool((dates[1:] >= dates[:-1]).all())  # date order, as an export
    assert (dates.astype("datetime64[D]") != dates).any()  # times of day
    assert cols["amount"].min() >= 0.01


def test_generator_matches_the_reference_harness(bench: Any) -> None:
    shared = _shared_bench()
    if shared is None:
        pytest.skip("the reference harness (shared/bench) is not beside this checkout")
    spec = importlib.util.spec_from_file_location("shared_gen", shared / "gen_transactions.py")
    assert spec is not None
    assert spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    for rows, customers, seed in ((5_000, 500, 42), (30_000, 4_000, 7)):
        theirs = gen.to_arrow(gen.generate(rows, customers, seed))
        assert bench.data.transactions_table(rows, customers, seed).equals(theirs)


# --------------------------------------------------------------------------- the references


def _step_params() -> list[Any]:
    sys.path.insert(0, str(BENCH))
    try:
        import steps
    finally:
        sys.path.remove(str(BENCH))
    return [pytest.param(s.name, id=s.name) for s in steps.STEPS if s.check is not None]


@pytest.mark.parametrize("name", _step_params())
def test_references_compute_the_same(
    bench: Any, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = bench.steps.get(name)
    path = bench.data.ensure(step.data, 3_000, tmp_path)
    for extra in step.inputs:
        bench.data.ensure(extra, 0, tmp_path)
    if not all(e.available() for e in step.engines):
        pytest.skip(f"{name} needs {[m for e in step.engines for m in e.requires]}")
    # The Dask engine sets PYTHONPATH and starts a local cluster: both are undone here, so a
    # default Client left behind cannot send later tests' Dask work to a closed cluster.
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    results = [_run_and_release(engine, str(path)) for engine in step.engines]
    for engine, theirs in zip(step.engines[1:], results[1:], strict=True):
        step.check(results[0], theirs, engine.name)


def _run_and_release(engine: Any, path: str) -> Any:
    loaded = engine.load(path, 2)
    try:
        return engine.run(loaded)
    finally:
        if isinstance(loaded, dict) and "client" in loaded:  # the Dask engine's cluster
            loaded["client"].close()
            loaded["cluster"].close()


def test_registry_names_every_hot_path(bench: Any) -> None:
    names = [s.name for s in bench.steps.STEPS]
    assert len(names) == len(set(names))
    assert set(names) >= STEPS
    for step in bench.steps.STEPS:
        assert step.subject.name in {"crmcore", "dask"}
        assert len(set(step.names())) == len(step.names())
        assert step.data in bench.data.DATASETS


# --------------------------------------------------------------------------- the stopwatch


def test_one_measurement_sees_the_memory_a_call_needs(bench: Any) -> None:
    import numpy as np

    def run(n: int) -> Any:
        a = np.ones(n, dtype=np.int64)  # 200 MB, touched
        return a[:10].copy()

    engine = bench.harness.Engine("fake", lambda path, threads: 25_000_000, run)
    out = bench.harness.measure_here(engine, "unused", None, warm=True)
    assert out["peak_reset"]
    # 200e6 bytes are 190.7 MiB; pages freed earlier in this process may cover a few of them.
    assert out["peak_mb"] - out["base_mb"] >= 170
    assert out["rows_out"] == 10
    assert out["seconds"] >= 0
    # touching 200 MB costs processor time (page faults count as system time)
    assert out["cpu_seconds"] > 0
    assert out["warm_seconds"] >= 0


def test_measure_script_prints_the_harness_line(bench: Any, tmp_path: Path) -> None:
    path = bench.data.ensure("transactions", 2_000, tmp_path)
    done = subprocess.run(
        [sys.executable, str(BENCH / "measure.py"), "btyd_summary", "crmcore", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    line = done.stdout.strip().splitlines()[-1]
    fields = dict(part.split("=") for part in line.split()[1:])
    assert line.startswith("btyd_summary/crmcore ")
    assert int(fields["rows_out"]) == 200
    assert float(fields["peak_rss_mb"]) >= float(fields["base_rss_mb"]) > 0
    assert float(fields["cpu_seconds"]) > 0


def test_machine_scaling_prints_one_row_per_primitive() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "machine_scaling.py"), "--sizes", "1e3,1e4"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows = [line.split("|")[1:-1] for line in done.stdout.strip().splitlines()[2:]]
    assert [r[0].strip() for r in rows] == [
        "multiply",
        "compare_sum",
        "bincount",
        "partition",
        "sort",
    ]
    assert all(float(cell) > 0 for r in rows for cell in r[1:])
    bad = subprocess.run(
        [sys.executable, str(BENCH / "machine_scaling.py"), "--sizes", "1e3"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "two row counts" in bad.stderr


def test_interleaving_rotates_the_engines(bench: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    h = bench.harness
    calls: list[str] = []

    def engine(name: str) -> Any:
        return h.Engine(name, lambda p, t: None, lambda x: [])

    step = h.Step("s", "transactions", "rows", (engine("a"), engine("b"), engine("c")))
    plan = h.Plan(steps=[step], sizes=[10], repeat=3)

    def fake(step_name: str, name: str, path: Path, **kw: Any) -> dict[str, Any]:
        calls.append(name)
        return {"seconds": 1.0, "peak_mb": 10.0, "base_mb": 5.0, "rows_out": 0}

    monkeypatch.setattr(h, "measure_fresh", fake)
    records = h.run(plan, lambda name, size: Path("x"), lambda rec: None)
    assert calls == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert [r["engine"] for r in records] == calls
    assert all({"at", "load", "repeat", "size"} <= set(r) for r in records)


def test_an_engine_variant_measures_with_its_environment(
    bench: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = bench.harness
    variant = bench.steps.get("btyd_summary").engine("crmcore:no-thp")
    assert dict(variant.env) == {"NUMPY_MADVISE_HUGEPAGE": "0"}
    seen: dict[str, Any] = {}

    def fake(step_name: str, name: str, path: Path, **kw: Any) -> dict[str, Any]:
        seen[name] = kw.get("env")
        return {"seconds": 1.0, "peak_mb": 10.0, "base_mb": 5.0, "rows_out": 0}

    monkeypatch.setattr(h, "measure_fresh", fake)
    plan = h.Plan(steps=[bench.steps.get("btyd_summary")], sizes=[10], repeat=1)
    h.run(plan, lambda name, size: Path("x"), lambda rec: None)
    assert seen["crmcore:no-thp"] == (("NUMPY_MADVISE_HUGEPAGE", "0"),)
    assert seen["crmcore"] == ()
    # and the child process really gets it
    script = "import os, json; print(json.dumps({'v': os.environ.get('CRMCORE_BENCH_X')}))"
    got = h._run_child([sys.executable, "-c", script], 60, json.loads, (("CRMCORE_BENCH_X", "1"),))
    assert got == {"v": "1"}


def test_medians_spread_and_goals(bench: Any) -> None:
    h, report = bench.harness, bench.report
    recs = []
    for size, scale in ((10**6, 1.0), (10**7, 10.0)):
        for r, jitter in enumerate((1.0, 1.2, 0.9)):
            for engine, secs, peak in (("crmcore", 1.0, 900.0), ("duckdb", 1.25, 1000.0)):
                recs.append(
                    {
                        "step": "btyd_summary",
                        "size": size,
                        "engine": engine,
                        "repeat": r,
                        "seconds": secs * scale * jitter,
                        "peak_mb": 100 + peak * scale,
                        "base_mb": 100.0,
                        "warm_seconds": 0.5,
                        "cpu_seconds": secs * scale,
                    }
                )
    summaries = {(s.size, s.engine): s for s in h.summarise(recs)}
    ours = summaries[(10**7, "crmcore")]
    assert ours.n == 3
    assert ours.seconds == pytest.approx(10.0)
    assert (ours.seconds_min, ours.seconds_max) == pytest.approx((9.0, 12.0))
    assert ours.step_mb == pytest.approx(9000.0)
    page = report.render(recs, bench.steps.STEPS, {"date": "today"})
    lines = page.splitlines()
    assert (
        "| btyd_summary vs duckdb: time <= 1x, peak MB <= 1x | time x 0.80, peak MB x 0.90 | yes |"
    ) in lines
    assert (
        "| btyd_summary linear: 1M -> 10M time and step MB <= 11x "
        "| time x 10.0, step MB x 10.0 | yes |"
    ) in lines
    assert (
        "| btyd_summary | 10M | duckdb | 12.500 | 11.250-15.000 | 12.50 | 10100 | 10000 "
        "| 0.500 | 0.80 | 0.90 |"
    ) in lines


def test_the_harness_beside_the_suite_and_the_closing_note(bench: Any) -> None:
    recs = [
        {"step": "btyd_summary", "size": 10**7, "engine": engine, "at": at, "seconds": secs}
        | {"peak_mb": peak, "base_mb": 500.0}
        for at, engine, secs, peak in (
            ("T1", "crmcore", 1.5, 900.0),
            ("T2", "duckdb", 2.0, 1000.0),
            ("T3", "shared:crmcore", 1.6, 950.0),
            ("T4", "shared:duckdb", 2.0, 1000.0),
        )
    ]
    meta = {"command": "benchmarks/run.py --sizes 1e7 | benchmarks/run.py --sizes 1e6"}
    lines = bench.report.render(recs, bench.steps.STEPS, meta).splitlines()
    assert "| btyd_summary | 10M | crmcore | 1.500 (1.500-1.500) | 1.600 (1.600-1.600) " in (
        "\n".join(lines)
    )
    assert "| btyd_summary | 10M | 0.75 | 0.80 | 0.90 | 0.95 |" in lines
    # the closing note gives the commands that measured the page and the one that prints it
    tail = lines[lines.index("## Reproduce") :]
    assert ".venv/bin/python benchmarks/run.py --sizes 1e7" in tail
    assert ".venv/bin/python benchmarks/run.py --sizes 1e6" in tail
    assert ".venv/bin/python benchmarks/run.py --render benchmarks/results.json" in tail


def test_runs_merge_in_time_order(bench: Any) -> None:
    def rec(at: str) -> dict[str, Any]:
        return {"at": at, "step": "s", "size": 1, "engine": "e", "seconds": 1.0}

    first = {"meta": {"cpu": "x", "command": "a"}, "records": [rec("10:00"), rec("10:05")]}
    second = {"meta": {"cpu": "x", "command": "b"}, "records": [rec("09:00")]}
    merged = bench.harness.merge_runs([first, second])
    assert [r["at"] for r in merged["records"]] == ["09:00", "10:00", "10:05"]
    assert merged["meta"] == {"cpu": "x", "command": "a | b", "runs merged": "2"}
    assert first["records"][0]["at"] == "10:00"  # the inputs are not changed


def test_render_merges_a_saved_run_and_a_live_log(bench: Any, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    assert spec is not None
    assert spec.loader is not None
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)

    def rec(at: str, size: int, engine: str, secs: float) -> dict[str, Any]:
        return {"at": at, "step": "btyd_summary", "size": size, "engine": engine} | {
            "seconds": secs,
            "peak_mb": 100.0,
            "base_mb": 50.0,
        }

    saved = tmp_path / "a.json"
    saved.write_text(
        json.dumps(
            {
                "meta": {"command": "benchmarks/run.py --sizes 1e7"},
                "records": [rec("T2", 10**7, "crmcore", 1.0), rec("T3", 10**7, "duckdb", 2.0)],
            }
        )
    )
    log = tmp_path / "log-x.jsonl"
    log.write_text(
        "\n".join(
            json.dumps(rec(t, 10**6, e, 0.1)) for t, e in (("T0", "crmcore"), ("T1", "duckdb"))
        )
    )
    out = tmp_path / "page.md"
    run.main(["--render", str(saved), str(log), "--out", str(out)])
    merged = json.loads(out.with_suffix(".json").read_text())
    assert [r["at"] for r in merged["records"]] == ["T0", "T1", "T2", "T3"]
    page = out.read_text()
    assert "| btyd_summary | 1M | crmcore |" in page
    assert "| btyd_summary | 10M | duckdb | 2.000 |" in page
    assert "## Scaling: 1M to 10M rows" in page
    assert "- log: log-x.jsonl (records only)" in page


def test_the_performance_page_is_the_rendered_saved_run(bench: Any) -> None:
    """docs/performance.md is what ``run.py --render benchmarks/results.json`` prints: no hand
    edits, and the saved run it comes from is committed beside it."""
    saved = json.loads((BENCH / "results.json").read_text())
    page = bench.report.render(saved["records"], bench.steps.STEPS, saved["meta"])
    assert (ROOT / "docs" / "performance.md").read_text() == page


# --------------------------------------------------------------------------- the runner


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "performance.md"
    env = {**os.environ, "CRMCORE_BENCH_DATA": str(tmp / "data")}
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "run.py"),
            *("--sizes", "2000", "--repeat", "1"),
            *("--out", str(out), "--log-dir", str(tmp)),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text()
    assert text in done.stdout  # the same page is printed
    return text, json.loads(out.with_suffix(".json").read_text())


def test_runner_measures_every_engine_into_the_page(page: tuple[str, dict[str, Any]]) -> None:
    text, saved = page
    seen = {(r["step"], r["engine"]) for r in saved["records"]}
    assert {s for s, _ in seen} == STEPS - (
        {"btyd_summary_dask"} if importlib.util.find_spec("distributed") is None else set()
    )
    assert ("btyd_summary", "duckdb") in seen
    assert ("score_scorecard", "polars") in seen
    ats = [r["at"] for r in saved["records"]]
    assert ats == sorted(ats)  # the log is in time order
    for key in ("## Results", "## Goals at 2k rows", "## What each step runs", "load average"):
        assert key in text
    assert "| btyd_summary | 2k | crmcore |" in text


def test_bad_arguments(bench: Any, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    assert spec is not None
    assert spec.loader is not None
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    with pytest.raises(SystemExit) as info:
        run.main(["--only", "nope"])
    assert info.value.code == 2
    assert "unknown step" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run.main(["--sizes", "ten"])
    with pytest.raises(SystemExit):
        run.main(["--repeat", "0", "--only", "btyd_summary", "--sizes", "1000"])
    run.main(["--list"])
    assert set(capsys.readouterr().out.split()) >= STEPS
