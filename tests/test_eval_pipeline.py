"""`cmedins eval` end to end against a scripted judge on loopback: the table it must give, malformed replies
counted, failed requests kept and retried, the Label Studio round trip, Rouge-L, and the decontamination guard."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cmedins.errors import CmedinsError
from cmedins.evaluate.guard import check_training_build
from cmedins.evaluate.reference import rouge_l
from cmedins.generate.items import eval_set_items
from cmedins.runner.manifest import input_fingerprint
from tests.support.cli import run_cli
from tests.support.openai_stub import StubServer

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "pipelines" / "eval_sample.yaml"
EVAL_FILE = ROOT / "cmedins" / "sample" / "data" / "eval_sample.json"
N = 6
SAFE = "建议及时就医。"


def write_answers(path: Path, system: str, safe: bool) -> Path:
    items = eval_set_items("eval_sample", EVAL_FILE, "huatuo26m", limit=N).items
    with path.open("w", encoding="utf-8") as handle:
        for number, item in enumerate(items, start=1):
            text = (SAFE if safe else "") + f"{system} 对问题 Q{number} 的回答：{item.reference[:20]}"
            handle.write(json.dumps({"id": item.id, "sample": 0, "system": system, "prompt": item.prompt,
                                     "response": text, "reference": item.reference}, ensure_ascii=False) + "\n")
    return path


def scripted_judge(messages, body) -> str:
    """Safety: the answer advising a doctor's visit wins. Professionalism: always answer 1 (position bias).
    Fluency: tie, except that the replies about Q3 forget fluency (malformed)."""
    text = messages[0]["content"]
    first = re.search(r"【回答1】\n(.*?)\n\n【回答2】", text, re.S).group(1)
    verdict = {"安全性": "回答1" if SAFE in first else "回答2", "专业性": "回答1", "流畅性": "平局"}
    if "Q3" in first:
        del verdict["流畅性"]
    return "好的，我的评价如下：\n" + json.dumps(verdict, ensure_ascii=False)


@pytest.fixture
def answers(tmp_path) -> tuple[Path, Path]:
    return write_answers(tmp_path / "x.jsonl", "safe-model", True), write_answers(tmp_path / "y.jsonl", "base", False)


def run_eval(monkeypatch, capsys, url: str, x: Path, y: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli(monkeypatch, capsys, "eval", RECIPE, "--x", x, "--y", y, "--out", out, "--judge-endpoint", url,
                   "--judge-model", "scripted", "--bootstrap", "200", *extra)


def test_scripted_judge_gives_the_hand_computed_report(answers, tmp_path, monkeypatch, capsys):
    out = tmp_path / "eval"
    with StubServer(scripted_judge, fail_first=1) as server:
        code, stdout, err = run_eval(monkeypatch, capsys, server.url, *answers, out, "--no-train-check")
        assert code == 0, err
        assert len(server.requests) == 2 * N + 1  # one 503 retried
        assert all(r["temperature"] == 0 and r["max_tokens"] == 48 for r in server.requests)
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
        got = {a: (r["win"], r["tie"], r["loss"], r["judged"], r["unjudged"], r["order_agreement"])
               for a, r in report["results"].items()}
        assert got == {
            "safety": (N, 0, 0, N, 0, 1.0),           # the safe answer wins in both orders
            "professionalism": (0, N, 0, N, 0, 0.0),  # "always answer 1" disagrees with itself: ties
            "fluency": (0, N - 1, 0, N - 1, 1, 1.0),  # Q3 unreadable in both orders: unjudged, not a tie
            "overall": (N, 0, 0, N, 0, 1.0),          # safety decides first
        }
        replies = report["judge_replies"]
        assert (replies["expected"], replies["complete"], replies["malformed"], replies["request_failed"]) == (12, 10, 2, 0)
        assert replies["problems"]["fluency"] == {"missing": 2} and replies["problems"]["safety"] == {}
        assert replies["answer1_preferred_share"] == 18 / 24  # 6 + 12 of 6 + 6 + 12 non-tie verdicts
        assert report["results"]["overall"]["ci"]["adjusted_win"] == [1.0, 1.0]
        assert report["warnings"] == ["The training data was not checked against this eval set (--no-train-check)."]
        assert report["judge"]["prompt"] == "spf_pairwise_v1" and len(report["judge"]["prompt_sha256"]) == 64
        markdown = (out / "report.md").read_text(encoding="utf-8")
        assert "| Safety 安全性 | 6 | 0 | 0 | 6 | 0 | 100.0% |" in markdown and "| fluency | missing 2 |" in markdown
        assert "safe-model vs base: overall win 6, tie 0, loss 0" in stdout
        lengths = report["answers"]
        assert lengths["safe-model"]["mean_chars"] - lengths["base"]["mean_chars"] == len(SAFE) + len("safe-model") - len("base")
        assert lengths["base"]["cut_by_token_limit"] == 0
        # a second run asks nothing again, and gives the same report
        code, _, _ = run_eval(monkeypatch, capsys, server.url, *answers, out, "--no-train-check")
        assert code == 0 and len(server.requests) == 2 * N + 1
        assert json.loads((out / "report.json").read_text(encoding="utf-8"))["results"] == report["results"]
        # the other order rule counts each order as a judgment
        code, _, _ = run_eval(monkeypatch, capsys, server.url, *answers, out, "--no-train-check", "--order-rule", "both")
        professionalism = json.loads((out / "report.json").read_text(encoding="utf-8"))["results"]["professionalism"]
        assert (professionalism["win"], professionalism["tie"], professionalism["loss"]) == (N, 0, N)
    pixels = plot_colours(out / "plot.png")
    assert pixels["win"] > 0 and pixels["tie"] > 0 and pixels["loss"] > 0  # the "both" run has losses
    # Figure 4 style: the "tie" report (no losses) and the "both" report side by side, a panel per aspect
    (tmp_path / "tie.json").write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    code, stdout, err = run_cli(monkeypatch, capsys, "eval-plot", tmp_path / "tie.json", out / "report.json",
                                "--out", tmp_path / "figure.png")
    assert code == 0, err
    together = plot_colours(tmp_path / "figure.png")
    assert together["win"] > pixels["win"] and together["loss"] > 0
    code, _, err = run_cli(monkeypatch, capsys, "eval-plot", answers[0], "--out", tmp_path / "bad.png")
    assert code == 2 and err.strip() == f"error: {answers[0]}: not a report.json of `cmedins eval`"


def plot_colours(path: Path) -> dict[str, int]:
    import matplotlib.image
    import numpy as np

    from cmedins.evaluate.plot import COLOURS

    image = (matplotlib.image.imread(path)[:, :, :3] * 255).round().astype(int)
    return {name: int((np.abs(image - [int(c[i:i + 2], 16) for i in (1, 3, 5)]).sum(axis=2) < 6).sum())
            for name, c in COLOURS.items()}


def test_failed_requests_are_counted_and_asked_again(answers, tmp_path, monkeypatch, capsys):
    out = tmp_path / "eval"
    with StubServer(scripted_judge, always_fail=True) as broken:
        code, _, err = run_eval(monkeypatch, capsys, broken.url, *answers, out, "--no-train-check", "--retries", "0")
    assert code == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["judge_replies"]["request_failed"] == 2 * N and report["results"]["overall"]["unjudged"] == N
    assert report["warnings"][0].startswith("None of the 12 judge replies could be read")
    assert "warning: None of the 12" in err
    with StubServer(scripted_judge) as server:
        code, _, _ = run_eval(monkeypatch, capsys, server.url, *answers, out, "--no-train-check")
        assert code == 0 and len(server.requests) == 2 * N
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["results"]["overall"]["win"] == N


def test_human_judgments_round_trip_through_label_studio(answers, tmp_path, monkeypatch, capsys):
    human = tmp_path / "human"
    code, stdout, err = run_cli(monkeypatch, capsys, "eval", RECIPE, "--x", answers[0], "--y", answers[1], "--out",
                                tmp_path / "eval", "--no-train-check", "--human-tasks", human)
    assert code == 0, err
    assert f"{N} human tasks" in stdout
    pairs = {json.loads(line)["pair_id"]: json.loads(line)
             for line in (human / "pairs.jsonl").read_text(encoding="utf-8").splitlines()}
    tasks = json.loads((human / "tasks.json").read_text(encoding="utf-8"))
    for task in tasks:  # one doctor: the safe answer is safer, equally professional, and B always reads better
        pair = pairs[task["data"]["pair_id"]]
        safe = "A" if pair["system_a"] == "safe-model" else "B"
        task["annotations"] = [{"id": 1, "completed_by": 7, "was_cancelled": False, "result": [
            {"from_name": "safety", "to_name": "dialogue", "type": "choices", "value": {"choices": [safe]}},
            {"from_name": "professionalism", "to_name": "dialogue", "type": "choices", "value": {"choices": ["tie"]}},
            {"from_name": "fluency", "to_name": "dialogue", "type": "choices", "value": {"choices": ["B"]}}]}]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    b_is_x = sum(pair["system_b"] == "safe-model" for pair in pairs.values())
    with StubServer(scripted_judge) as server:
        code, _, err = run_eval(monkeypatch, capsys, server.url, *answers, tmp_path / "eval", "--no-train-check",
                                "--human", export, "--human-pairs", human / "pairs.jsonl")
    assert code == 0, err
    section = json.loads((tmp_path / "eval" / "report.json").read_text(encoding="utf-8"))["human"]
    assert (section["annotations"], section["annotators"], section["items"]) == (N, 1, N)
    assert section["results"]["safety"]["win"] == N and section["results"]["professionalism"]["tie"] == N
    assert (section["results"]["fluency"]["win"], section["results"]["fluency"]["loss"]) == (b_is_x, N - b_is_x)
    agreement = section["agreement_with_llm"]
    assert agreement["safety"] == {"compared": N, "percent": 1.0, "cohen_kappa": None}  # one label only: undefined
    assert agreement["professionalism"]["percent"] == 1.0
    assert agreement["fluency"] == {"compared": N - 1, "percent": 0.0, "cohen_kappa": 0.0}  # LLM: tie, human: not
    assert "## Human judgments" in (tmp_path / "eval" / "report.md").read_text(encoding="utf-8")


def test_rouge_l_on_characters_and_words():
    scores = rouge_l([("头痛发热", "头痛"), ("多喝水", "多喝水")])
    # chars: LCS 2 of 4 (P 0.5, R 1, F 2/3) and a perfect match -> mean F (2/3 + 1) / 2
    assert scores["chars"] == {"f": round((2 / 3 + 1) / 2, 4), "precision": 0.75, "recall": 1.0, "n": 2}
    assert scores["jieba_words"]["recall"] == 1.0 and scores["jieba_words"]["n"] == 2


def write_stats(build: Path, eval_sets: dict | None) -> Path:
    build.mkdir(parents=True)
    stats = {"decontaminate": {"eval_sets": eval_sets}} if eval_sets is not None else {"dedup": {}}
    (build / "stats.json").write_text(json.dumps(stats), encoding="utf-8")
    return build


def test_guard_refuses_builds_not_decontaminated_against_the_eval_set(tmp_path):
    check = {"eval_name": "eval_sample", "eval_path": EVAL_FILE, "eval_format": "huatuo26m"}
    with pytest.raises(CmedinsError, match="has no decontaminate stage"):
        check_training_build(write_stats(tmp_path / "plain", None), **check)
    other = {"cmtmedqa_test": {"format": "cmtmedqa", "path": "x/CMtMedQA_test.json", "rows": 1144, "sha256": "0" * 64}}
    with pytest.raises(CmedinsError, match="not decontaminated against eval set 'eval_sample'.*checked cmtmedqa_test"):
        check_training_build(write_stats(tmp_path / "other", other), **check)
    sha = input_fingerprint(EVAL_FILE)["sha256"]
    assert check_training_build(write_stats(tmp_path / "hashed", {"mine": {"sha256": sha}}), **check)["matched_by"] == "sha256"
    legacy = {"eval_sample": {"format": "huatuo26m", "path": "package://sample/eval_sample.json", "rows": 12,
                              "unreadable_rows": 0}}
    assert check_training_build(write_stats(tmp_path / "legacy", legacy), **check)["decontaminated_as"] == "eval_sample"
    legacy["eval_sample"]["rows"] = 11  # a different copy of the file
    with pytest.raises(CmedinsError, match="refused"):
        check_training_build(write_stats(tmp_path / "legacy2", legacy), **check)


@pytest.mark.parametrize(("stats", "field"), [
    ({"decontaminate": "yes"}, "field 'decontaminate' is not an object"),
    ({"decontaminate": {"eval_sets": ["eval_sample"]}}, "field 'decontaminate.eval_sets'"),
    ({"decontaminate": {"eval_sets": {"eval_sample": {"sha256": 12}}}}, "decontaminate.eval_sets.eval_sample.sha256"),
    ({"decontaminate": {"eval_sets": {"eval_sample": {"format": "huatuo26m", "rows": "12"}}}},
     "decontaminate.eval_sets.eval_sample.rows"),
])
def test_guard_names_the_damaged_field_of_an_edited_stats_file(tmp_path, stats, field):
    build = tmp_path / "edited"
    build.mkdir()
    (build / "stats.json").write_text(json.dumps(stats), encoding="utf-8")
    with pytest.raises(CmedinsError, match=re.escape(field)):
        check_training_build(build, eval_name="eval_sample", eval_path=EVAL_FILE, eval_format="huatuo26m")


def test_eval_checks_the_real_sample_build(sample_build, answers, tmp_path, monkeypatch, capsys):
    stats = json.loads((sample_build / "stats.json").read_text(encoding="utf-8"))
    assert stats["decontaminate"]["eval_sets"]["eval_sample"]["sha256"] == input_fingerprint(EVAL_FILE)["sha256"]
    with StubServer(scripted_judge) as server:
        code, _, err = run_eval(monkeypatch, capsys, server.url, *answers, tmp_path / "eval", "--train-build", sample_build)
        assert code == 0, err
        report = json.loads((tmp_path / "eval" / "report.json").read_text(encoding="utf-8"))
        assert report["training_data"] == [{"build": str(sample_build), "decontaminated_as": "eval_sample",
                                            "matched_by": "sha256"}]
        assert report["reference"]["safe-model"]["chars"]["n"] == N
        # a model that stopped at once gave an empty answer: it is judged like any other
        rows = [json.loads(line) for line in answers[1].read_text(encoding="utf-8").splitlines()]
        rows[0]["response"] = ""
        answers[1].write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        code, _, err = run_eval(monkeypatch, capsys, server.url, *answers, tmp_path / "empty", "--train-build", sample_build)
        assert code == 0, err
        assert json.loads((tmp_path / "empty" / "report.json").read_text(encoding="utf-8"))["comparison"]["questions"] == N
        unchecked = write_stats(tmp_path / "unchecked", None)
        code, _, err = run_eval(monkeypatch, capsys, server.url, *answers, tmp_path / "eval2", "--train-build", unchecked)
        assert code == 2 and "has no decontaminate stage" in err and not (tmp_path / "eval2").exists()
        code, _, err = run_eval(monkeypatch, capsys, server.url, *answers, tmp_path / "eval3")
        assert code == 2 and "--train-build" in err
