"""De-identification settings (the `deid` stage params in a recipe, and the `cmedins deid` options)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Entity types this package detects, with the placeholder each becomes. Order = priority when two
# findings overlap with equal score (the more specific identifier wins).
PLACEHOLDERS: dict[str, str] = {
    "CN_ID_CARD": "<身份证号>",
    "MEDICAL_RECORD_NUMBER": "<病案号>",
    "BANK_CARD": "<银行卡号>",
    "PASSPORT": "<护照号>",
    "LICENSE_PLATE": "<车牌号>",
    "EMAIL": "<邮箱>",
    "IP_ADDRESS": "<IP地址>",
    "CN_PHONE": "<电话>",
    "CONTACT_ID": "<联系账号>",
    "DATE_OF_BIRTH": "<出生日期>",
    "AGE_OVER_89": "<年龄>",
    "PERSON": "<姓名>",
    "CN_ADDRESS": "<地址>",
    "INSTITUTION": "<机构>",
    "DATE_TIME": "<日期>",
}
ENTITY_TYPES: tuple[str, ...] = tuple(PLACEHOLDERS)
# Identifiers that are never acceptable in published data: a recipe that leaves one of them out of `entities`
# is refused unless it says `allow_unsafe: true` (and such a build can then never be pushed).
# IP addresses are one of HIPAA Safe Harbor's 18 identifiers (a record's access log, a patient's upload line).
STRICT_ENTITIES: frozenset[str] = frozenset({"CN_ID_CARD", "CN_PHONE", "EMAIL", "MEDICAL_RECORD_NUMBER",
                                                 "CONTACT_ID", "IP_ADDRESS"})


class DeidConfig(BaseModel):
    """How to de-identify. Defaults are the safe choice: placeholders, dates masked, scan fails the build."""

    model_config = ConfigDict(extra="forbid")

    operator: Literal["placeholder", "pseudonym"] = "placeholder"
    dates: Literal["keep", "mask", "year"] = "mask"
    score_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    entities: list[str] = Field(default_factory=lambda: list(ENTITY_TYPES))
    fail_on_residual: bool = True
    allow_unsafe: bool = False  # narrowing the strict types needs this; the card says so and push refuses
    workers: int = Field(default=1, ge=1, le=64)
    batch_size: int = Field(default=64, ge=1, le=10_000)

    @field_validator("entities")
    @classmethod
    def _known_entities(cls, entities: list[str]) -> list[str]:
        unknown = sorted(set(entities) - set(ENTITY_TYPES))
        if unknown:
            raise ValueError(f"unknown entity types {unknown}; choose from {list(ENTITY_TYPES)}")
        return [e for e in ENTITY_TYPES if e in entities]  # canonical order: stable manifests

    @model_validator(mode="after")
    def _strict_types_kept(self) -> DeidConfig:
        missing = sorted(STRICT_ENTITIES - set(self.entities))
        if missing and not self.allow_unsafe:
            raise ValueError(f"entities leaves out {', '.join(missing)}, which must never be published; add them "
                             "back, or set allow_unsafe: true (the build is then marked unsafe and cannot be pushed)")
        return self

    def narrowed_strict(self) -> list[str]:
        """Strict identifier types this configuration does not detect (empty for a safe configuration)."""
        return sorted(STRICT_ENTITIES - set(self.active_entities()))

    def active_entities(self) -> list[str]:
        """Entities to detect: `dates: keep` turns off DATE_TIME (dates of birth are always removed)."""
        return [e for e in self.entities if not (e == "DATE_TIME" and self.dates == "keep")]
