"""The row contracts of DESIGN.md as pydantic models. `cmedins schema export` writes them to schemas/.

Pipeline stages pass plain dicts (fast); these models validate at the edges (input adapters, the
`validate` stage, `cmedins validate`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["system", "user", "assistant"]

# The six CMedINS tasks (documented in cards/cmedins.md), then the non-record kinds.
RECORD_TASKS = ("diagnosis", "treatment", "examination", "summary", "triage", "discharge_advice")
DIALOGUE_TASKS = ("dialogue_single", "dialogue_multi")
ALL_TASKS = (*RECORD_TASKS, *DIALOGUE_TASKS, "general")
Task = Literal[
    "diagnosis", "treatment", "examination", "summary", "triage", "discharge_advice",
    "dialogue_single", "dialogue_multi", "general",
]
Dimension = Literal["safety", "professionalism", "fluency"]
DIMENSIONS: tuple[str, ...] = ("safety", "professionalism", "fluency")  # priority order
Judgment = Literal["A", "B", "tie"]
Distribution = Literal["in", "out"]
# annotation: SPF judgments (+ expert); source: the source's own chosen/rejected; rank: a ranked list's
# order; score: a judge's scores (e.g. GPT-4) over several models' answers.
DecidedBy = Literal["annotation", "source", "rank", "score"]
NO_DEPARTMENT = "无科室标注"  # stats.json's department key for rows without one (dialogues, general)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Message(_Strict):
    role: Role
    content: str = Field(min_length=1)

    @field_validator("content")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message content is blank")
        return value


# Clinical sections of a record, in reading order; the key is the field name, the value the usual heading.
CLINICAL_FIELDS: dict[str, str] = {
    "chief_complaint": "主诉",
    "present_illness": "现病史",
    "past_history": "既往史",
    "personal_history": "个人史",
    "family_history": "家族史",
    "physical_exam": "体格检查",
    "specialist_exam": "专科检查",
    "auxiliary_exam": "辅助检查",
    "history_summary": "病史特点",
    "diagnosis": "诊断",
    "treatment": "诊疗经过",
    "discharge_status": "出院情况",
    "discharge_advice": "出院医嘱",
}
# Identity fields: present in raw records, must be None after de-identification.
IDENTITY_FIELDS: dict[str, str] = {
    "patient_name": "姓名",
    "id_number": "身份证号",
    "phone": "联系电话",
    "address": "住址",
    "birth_date": "出生日期",
    "record_number": "病案号",
    "admission_date": "入院日期",
    "hospital": "医院",
}


class MedicalRecord(_Strict):
    """One patient's record. Raw input has identity fields; de-identified output has them all None."""

    record_id: str = Field(min_length=1)
    source: str
    department: str | None = None
    sex: Literal["男", "女"] | None = None
    age: int | None = Field(default=None, ge=0, le=130)
    chief_complaint: str | None = None
    present_illness: str | None = None
    past_history: str | None = None
    personal_history: str | None = None
    family_history: str | None = None
    physical_exam: str | None = None
    specialist_exam: str | None = None
    auxiliary_exam: str | None = None
    history_summary: str | None = None
    diagnosis: str | None = None
    treatment: str | None = None
    discharge_status: str | None = None
    discharge_advice: str | None = None
    patient_name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None
    birth_date: str | None = None
    record_number: str | None = None
    admission_date: str | None = None
    hospital: str | None = None


class TrimmedUtterance(_Strict):
    """An utterance of a raw dialogue that did not become a turn of its own (counted in stats.json)."""

    reason: Literal["empty_utterance", "merged_into_previous_same_speaker", "leading_doctor_greeting",
                    "leading_doctor_question_as_context", "trailing_unanswered_user_turn"]
    chars: int = Field(ge=0)


class Conversation(_Strict):
    """A dialogue or general instruction after a source adapter: messages end with the assistant."""

    id: str
    source: str
    category: Literal["dialogue", "general"]
    department: str | None = None
    messages: list[Message] = Field(min_length=2)
    trimmed: list[TrimmedUtterance] | None = None

    @field_validator("messages")
    @classmethod
    def _alternates(cls, messages: list[Message]) -> list[Message]:
        return check_turns(messages)


def check_turns(messages: list[Message]) -> list[Message]:
    """Optional system first, then user/assistant alternating, ending with the assistant."""
    body = messages[1:] if messages and messages[0].role == "system" else messages
    if not body:
        raise ValueError("no user/assistant turns")
    for i, message in enumerate(body):
        expected = "user" if i % 2 == 0 else "assistant"
        if message.role != expected:
            raise ValueError(f"turn {i} has role {message.role!r}, expected {expected!r}")
    if body[-1].role != "assistant":
        raise ValueError("the last turn is not the assistant's")
    return messages


class SFTRow(_Strict):
    """trl conversational SFT row (the published CMedINS dataset)."""

    id: str = Field(pattern=r"^[0-9a-f]{16,64}$")
    messages: list[Message] = Field(min_length=2)
    task: Task
    source: str
    department: str | None = None
    instruction: str | None = None
    query: str | None = None
    answer: str | None = None
    template_id: str | None = None
    record_id: str | None = None

    @field_validator("messages")
    @classmethod
    def _alternates(cls, messages: list[Message]) -> list[Message]:
        return check_turns(messages)


class PreferenceAnnotation(_Strict):
    """One annotator's SPF judgment of a response pair (the plain JSONL judgment format)."""

    pair_id: str = Field(min_length=1)
    annotator: str = Field(min_length=1)
    prompt: list[Message] = Field(min_length=1)
    response_a: str = Field(min_length=1)
    response_b: str = Field(min_length=1)
    safety: Judgment
    professionalism: Judgment
    fluency: Judgment
    comment: str | None = None
    distribution: Distribution = "in"
    source: str | None = None


class DPORow(_Strict):
    """trl preference row with an explicit prompt (the published SPF dataset)."""

    id: str = Field(pattern=r"^[0-9a-f]{16,64}$")
    prompt: list[Message] = Field(min_length=1)
    chosen: list[Message] = Field(min_length=1, max_length=1)
    rejected: list[Message] = Field(min_length=1, max_length=1)
    deciding_dimension: Dimension | None = None
    distribution: Distribution
    source: str
    annotator_count: int = Field(ge=0)
    agreement: float | None = Field(default=None, ge=0.0, le=1.0)
    arbitrated: bool = False
    # Provenance: who or what decided the pair, and the figures it was decided on.
    decided_by: DecidedBy | None = None
    chosen_model: str | None = None
    rejected_model: str | None = None
    chosen_score: float | None = None
    rejected_score: float | None = None
    score_margin: float | None = None  # chosen_score - rejected_score (the judge's scores)
    rm_margin: float | None = None  # mean reward-model margin, when rm_vote ran on the pair
    flipped: bool = False  # rm_vote swapped chosen and rejected

    @field_validator("chosen", "rejected")
    @classmethod
    def _assistant_only(cls, messages: list[Message]) -> list[Message]:
        if messages[0].role != "assistant":
            raise ValueError("chosen/rejected must be one assistant message")
        return messages


MODELS: dict[str, type[BaseModel]] = {
    "record": MedicalRecord,
    "conversation": Conversation,
    "sft": SFTRow,
    "annotation": PreferenceAnnotation,
    "dpo": DPORow,
}


# Row keys the runner carries for accounting (the row's kind and where it was read) that no published row holds.
PRIVATE_KEYS = ("kind", "_file", "_row")


def public_row(row: dict) -> dict:
    return {key: value for key, value in row.items() if key not in PRIVATE_KEYS}
