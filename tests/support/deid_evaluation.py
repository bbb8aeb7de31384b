"""Recall of de-identification on the cmedins sample generator's records, whose identities are known.

The generator (cmedins.sample) builds each record around one fake `Identity` and leaks parts of it into the
free text the way real notes do (患者张某某, 病史由患者之父雷保国代诉, 现住…村3组12号, 住院号ZY2023…). The ground
truth is that structured identity: every identity value found in a record's text before de-identification
must be gone after it. `make_record` keeps the identity to itself (the relative's name, the inpatient
number and the landline never reach the record dict), so `sample_cases` replays the generator's first draws
on a copy of the random state to rebuild the same `Identity` (no patching of library code), and checks the
replay against the identity fields the record does expose (name, ID number, phone, record number): if the
generator changes its draw order, the replay fails loudly instead of giving wrong ground truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

# Identity facts checked, by the entity type that should remove them.
Truth = tuple[str, str]  # (entity type, value as it may appear in the text)


@dataclass(frozen=True)
class SampleCase:
    """One generated record: the texts a de-identifier sees, and the identity values planted in them."""

    scope: str
    texts: list[str]
    truths: list[Truth]


def date_spellings(value: date) -> list[str]:
    """Every way cmedins.sample.identity.format_date (and the record header) writes a date."""
    return [f"{value.year}年{value.month:02d}月{value.day:02d}日", f"{value.year}年{value.month}月{value.day}日",
            f"{value.year}.{value.month}.{value.day}", value.isoformat()]


def identity_truths(person) -> list[Truth]:
    """The identity values of one cmedins.sample Identity, typed by the entity that must remove them."""
    truths = [("PERSON", person.name), ("PERSON", person.relative_name), ("PERSON", person.partial_name),
              ("CN_ID_CARD", person.id_number), ("CN_PHONE", person.phone), ("CN_PHONE", person.phone_display),
              ("CN_PHONE", person.landline), ("CN_ADDRESS", person.address), ("INSTITUTION", person.hospital),
              ("MEDICAL_RECORD_NUMBER", person.record_number),
              ("MEDICAL_RECORD_NUMBER", person.inpatient_number)]
    truths += [("DATE_OF_BIRTH", spelling) for spelling in date_spellings(person.birth_date)]
    truths += [("DATE_TIME", spelling) for spelling in date_spellings(person.admission_date)]
    return truths


def sample_cases(count: int, seed: int = 7) -> list[SampleCase]:
    """`count` generated records, half in the structured layout (clinical fields), half in free text."""
    import random

    from cmedins.contracts.schema import CLINICAL_FIELDS
    from cmedins.sample import records

    cases = []
    rng = random.Random(f"{seed}:deid-eval")
    for number in range(count):
        person = replay_identity(rng)
        record = records.make_record(rng, f"eval-{number}")
        exposed = (record["patient_name"], record["id_number"], record["phone"], record["record_number"])
        if exposed != (person.name, person.id_number, person.phone_display, person.record_number):
            raise RuntimeError("replayed identity differs from the generated record: make_record's draw order "
                               "changed, update evaluation.replay_identity")
        if number % 2:
            texts = [records.render_text(rng, record)["text"]]
        else:
            texts = [record[name] for name in CLINICAL_FIELDS if record.get(name)]
        cases.append(SampleCase(record["record_id"], texts, identity_truths(person)))
    return cases


def replay_identity(rng):
    """The Identity `make_record(rng, ...)` is about to draw, from a copy of `rng` (rng itself is untouched):
    the same first draws as make_record (department, case, sex, age), then make_identity."""
    import random

    from cmedins.sample.identity import make_identity
    from cmedins.sample.pools import load_pool

    probe = random.Random()
    probe.setstate(rng.getstate())
    pool = load_pool("clinical")
    department = probe.choice(list(pool["departments"]))
    case = probe.choice(pool["departments"][department])
    sex = case["sex"] if case["sex"] != "any" else probe.choice(("男", "女"))
    age = probe.randint(*case["age"])
    return make_identity(probe, sex=sex, age=age)


def leaks_by_type(cases: Sequence[SampleCase], outputs: Sequence[Sequence[str]]
                  ) -> tuple[dict[str, tuple[int, int]], list[tuple[str, str, str]]]:
    """({entity type: (removed, planted)}, [(scope, entity type, value) still in the output]). A value is
    planted when it occurs in the input texts, removed when it no longer occurs in the output texts."""
    counts: dict[str, list[int]] = {}
    leaks = []
    for case, texts in zip(cases, outputs, strict=True):
        before, after = "\n".join(case.texts), "\n".join(texts)
        for entity, value in dict.fromkeys(case.truths):
            if value and value in before:
                tally = counts.setdefault(entity, [0, 0])
                tally[1] += 1
                if value in after:
                    leaks.append((case.scope, entity, value))
                else:
                    tally[0] += 1
    return {entity: (removed, planted) for entity, (removed, planted) in sorted(counts.items())}, leaks


# --- precision on real public consultation text ---------------------------------------------------------
# Public medical Q&A and dialogue rarely holds a real identity, so nearly every finding there is a false
# positive worth reading. Paths are relative to the shared data folder (../shared/data).
PUBLIC_SOURCES = {
    "medicalgpt_reward": ("medicalgpt_samples/reward_test.json", "jsonl",
                          ("question", "response_chosen", "response_rejected")),
    "chatmed_consult": ("chatmed_consult/ChatMed-Consult_test.json", None, ("query", "response")),
    "huatuo26m_answers": ("huatuo26m_test_zhongjing/huatuo26M_test.json", None, ("output",)),
    "toyhom_cmdd": ("toyhom_cmdd/样例_内科5000-6000.csv", None, ("ask", "answer")),
}


def public_texts(data_dir, limit: int = 1000) -> dict[str, list[str]]:
    """Up to `limit` rows of each public source, one text per row (its fields joined by a newline)."""
    from itertools import islice

    from cmedins.rowio.readers import iter_rows

    texts = {}
    for name, (path, fmt, fields) in PUBLIC_SOURCES.items():
        rows = islice(iter_rows(data_dir / path, fmt), limit)
        texts[name] = ["\n".join(_text(row[field]) for field in fields) for _, row in rows]
    return texts


def _text(value) -> str:
    return "\n".join(map(str, value)) if isinstance(value, list) else str(value)
