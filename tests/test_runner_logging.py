"""Logging: a per-build log file, plain progress lines with totals, rates and ETA off a terminal, and per-stage
wall time and rows/s in timings.json (kept apart from stats.json, which stays byte-identical across builds)."""

from __future__ import annotations

import io
import json

from cmedins.runner.progress import Progress, rate_line
from cmedins.sft.build import run_recipe
from tests.support.runner_corpus import write_recipe


def test_a_build_writes_its_log_and_stage_timings(tmp_path, capsys):
    recipe = write_recipe(tmp_path)
    out = tmp_path / "out"
    run_recipe(recipe, out, show_progress=True)  # pytest's stderr is not a terminal: plain lines
    err = capsys.readouterr().err
    assert "reading chatmed: 6 rows" in err and "rows/s, done in" in err
    assert "writing: 10 of 10 rows (100%)" in err
    log = (out / "build.log").read_text(encoding="utf-8")
    assert "stage dialogues: 13 rows in, 13 out" in log and "stage dedup:" in log and "built " in log
    # write_recipe declares its sources de-identified: the log and stderr say the toolkit did not de-identify.
    warning = "the recipe declares sources_already_deidentified: true, so cmedins did not de-identify this build"
    assert warning in log
    timings = json.loads((out / "timings.json").read_text(encoding="utf-8"))
    assert set(timings) == {"dialogues", "dedup", "validate", "mix_and_write", "card"}
    assert timings["dedup"]["rows_in"] == 13 and timings["dedup"]["seconds"] >= 0
    assert timings["dialogues"]["rows_per_second"] > 0
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert "seconds" not in json.dumps(stats)

    run_recipe(recipe, out, show_progress=False)  # resumed: the log and timings say so
    timings = json.loads((out / "timings.json").read_text(encoding="utf-8"))
    assert timings["dialogues"] == {"resumed": True} and timings["dedup"] == {"resumed": True}
    assert "resuming after stage dedup" in (out / "build.log").read_text(encoding="utf-8")


def test_a_failed_build_logs_why(tmp_path):
    from cmedins.runner.build_folder import state_dir

    recipe = write_recipe(tmp_path)
    (tmp_path / "src" / "general.json").write_text("[{", encoding="utf-8")
    out = tmp_path / "out"
    try:
        run_recipe(recipe, out, show_progress=False)
    except Exception as error:  # noqa: BLE001 - the CLI turns it into one line; here we read the log
        assert "invalid JSON" in str(error)
    log = (state_dir(out) / "partial" / "build.log").read_text(encoding="utf-8")
    assert "build failed:" in log and "invalid JSON" in log and not out.exists()


def test_plain_progress_lines_carry_total_rate_and_eta():
    stream = io.StringIO()
    progress = Progress(enabled=True, interval=0.0, stream=stream)
    progress._plain = True  # as off a terminal, whatever runs this test
    task = progress.add("writing", total=10_000)
    for _ in range(6_000):
        progress.advance(task)
    progress.done(task)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("writing: 2,000 of 10,000 rows (20%)") and "rows/s, ETA" in lines[0]
    assert lines[-1].startswith("writing: 6,000 of 10,000 rows (60%)") and "done in" in lines[-1]
    assert rate_line("reading x", 50, 2.0) == "reading x: 50 rows, 25 rows/s"
