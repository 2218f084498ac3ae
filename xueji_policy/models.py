"""Pydantic (v2) models mirroring ``case.schema.json`` and ``decision.schema.json``.

The JSON Schemas are the contract; these models accept exactly the JSON values the
schemas accept (tests/test_schemas.py checks the agreement).  To that end the
models are strict: no string-to-number or number-to-bool coercion, dates only as
``YYYY-MM-DD`` strings (or ``datetime.date`` objects), integers may be written as
integral floats (``2.0``) as JSON Schema allows.  The student's ID number is kept
out of ``repr`` and out of validation error texts (``hide_input_in_errors``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .privacy import gb11643_valid

__all__ = [
    "ACTION_SECTIONS", "SECTIONS", "Action",
    "School", "SuspensionEntry", "Household", "Exam", "Evaluation", "Leave", "Student",
    "Registration", "Transfer", "Suspension", "Resumption", "Withdrawal", "Graduation", "Sanction",
    "Revocation", "Appeal", "InfoChange", "Reissue", "Cancellation", "Case",
    "Reason", "Obligation", "RulesetInfo", "Decision",
]

ACTION_SECTIONS: dict[str, str] = {
    "registration": "registration", "transfer_in": "transfer", "transfer_out": "transfer",
    "suspension": "suspension", "suspension_extension": "suspension", "resumption": "resumption",
    "withdrawal": "withdrawal", "graduation": "graduation", "completion_to_graduation": "graduation",
    "sanction": "sanction", "sanction_revocation": "revocation", "appeal": "appeal",
    "info_change": "info_change", "certificate_reissue": "reissue", "status_cancellation": "cancellation",
}
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(ACTION_SECTIONS.values()))

Action = Literal[
    "registration", "transfer_in", "transfer_out", "suspension", "suspension_extension", "resumption",
    "withdrawal", "graduation", "completion_to_graduation", "sanction", "sanction_revocation", "appeal",
    "info_change", "certificate_reissue", "status_cancellation",
]

# --------------------------------------------------------------------------- scalar types

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _to_date(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        raise ValueError("应为日期 YYYY-MM-DD，而不是日期时间")
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        if not _DATE_RE.fullmatch(v):
            raise ValueError("不是有效日期（应为 YYYY-MM-DD）")
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            raise ValueError("不是有效日期（应为 YYYY-MM-DD）") from None
    raise ValueError("日期应为 YYYY-MM-DD 字符串")


def _to_int(v: Any) -> Any:
    # JSON Schema's "integer" accepts 2.0; booleans are not numbers.
    if isinstance(v, bool):
        raise ValueError("应为整数")
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _to_number(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("应为数值")
    return v


Date = Annotated[dt.date, BeforeValidator(_to_date)]
Count = Annotated[int, BeforeValidator(_to_int), Field(ge=0)]
Grade = Annotated[int, BeforeValidator(_to_int), Field(ge=1, le=3)]
Semester = Annotated[int, BeforeValidator(_to_int), Field(ge=1, le=2)]
Number = Annotated[float, BeforeValidator(_to_number), Field(ge=0)]


def Str(n: int = 200) -> Any:  # noqa: N802 - a type factory
    return Annotated[str, Field(max_length=n)]


Str200 = Str(200)
Str50 = Str(50)

MedicalLevel = Literal["township", "county", "city", "province"]
SanctionLevel = Literal["warning", "serious_warning", "demerit", "major_demerit", "probation", "expulsion"]
EvaluationGrade = Literal["A", "B", "C", "D", "E"]
ApprovalBody = Literal["school", "school_council", "city_bureau", "province"]
Outcome = Literal["graduate", "completion", "incomplete_certificate", "same_grade", "next_grade_allowed",
                  "next_year_as_repeat_candidate"]

_RESIDENT_ID_RE = re.compile(r"[0-9]{17}[0-9X]")


class _NotNull:
    """Annotated marker: the field may be absent but, as in the schema, not ``null``."""

    def __repr__(self) -> str:
        return "NOT_NULL"


NOT_NULL = _NotNull()


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, hide_input_in_errors=True)

    @model_validator(mode="before")
    @classmethod
    def _absent_not_null(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, info in cls.model_fields.items():
                if name in data and data[name] is None and any(m is NOT_NULL for m in info.metadata):
                    raise ValueError(f"'{name}' 可以省略，但不能为 null")
        return data


# --------------------------------------------------------------------------- shared shapes


class School(_Model):
    name: Str200
    province: Str50
    city: Str50
    level: Literal["provincial_model", "ordinary"]
    ownership: Literal["public", "private"]
    enrollment: Annotated[Count | None, NOT_NULL] = None
    grade_class_sizes: Annotated[Annotated[list[Count], Field(max_length=64)] | None, NOT_NULL] = None


class SuspensionEntry(_Model):
    start: Date
    end: Date | None = None
    reason: Literal["illness", "other"]


class Household(_Model):
    student_hukou_city: Annotated[Str50 | None, NOT_NULL] = None
    guardian_hukou_city: Str50 | None = None
    student_guardian_same_address: Annotated[bool | None, NOT_NULL] = None
    residence_permit_only: Annotated[bool | None, NOT_NULL] = None


class Exam(_Model):
    subject: Str50
    passed: bool


class Evaluation(_Model):
    moral_civic: Literal["合格", "不合格"]
    learning_ability: EvaluationGrade
    communication_cooperation: EvaluationGrade
    sports_health: EvaluationGrade
    aesthetics_expression: EvaluationGrade


class Leave(_Model):
    requested_on: Date
    until: Date
    has_proof: Annotated[bool | None, NOT_NULL] = None


class Student(_Model):
    name: Str200
    gender: Annotated[Literal["male", "female"] | None, NOT_NULL] = None
    id_type: Literal["resident_id", "hk_macao_taiwan", "foreign"]
    id_number: Annotated[str, Field(max_length=32, repr=False)]
    xueji_number: Annotated[Annotated[str, Field(max_length=64)] | None, NOT_NULL] = Field(default=None, repr=False)
    status: Literal["none", "enrolled", "suspended", "withdrawn", "graduated", "completed", "incomplete",
                    "cancelled"]
    grade: Annotated[Grade | None, NOT_NULL] = None
    semester: Annotated[Semester | None, NOT_NULL] = None
    enrolled_on: Annotated[Date | None, NOT_NULL] = None
    school: Annotated[School | None, NOT_NULL] = None
    gaokao_registered: bool = False
    suspensions: Annotated[list[SuspensionEntry], Field(max_length=20)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _resident_id(self) -> Student:
        if self.id_type == "resident_id":
            if not _RESIDENT_ID_RE.fullmatch(self.id_number):
                raise ValueError("居民身份证号码应为18位：前17位为数字，末位为数字或大写 X")
            if not gb11643_valid(self.id_number):
                raise ValueError("身份证号码校验位错误")
        return self


# --------------------------------------------------------------------------- sections


class Registration(_Model):
    admission: Literal["in_plan", "no_plan", "over_plan"]
    fraud: Annotated[bool | None, NOT_NULL] = None
    cross_region_violation: Annotated[bool | None, NOT_NULL] = None
    admitted_elsewhere: Annotated[bool | None, NOT_NULL] = None
    other_high_school_xueji: Annotated[bool | None, NOT_NULL] = None
    prior_outcome: Literal["graduated", "completed", "incomplete"] | None = None
    id_card_used_before: Annotated[bool | None, NOT_NULL] = None
    has_mainland_xueji: Annotated[bool | None, NOT_NULL] = None
    tibet_class: Annotated[bool | None, NOT_NULL] = None
    school_start: Date
    reported_on: Date | None = None
    leave: Leave | None = None
    class_size: Annotated[Count | None, NOT_NULL] = None
    contact_failed: Annotated[bool | None, NOT_NULL] = None
    other_policy_violation: Annotated[bool | None, NOT_NULL] = None


_Material = Literal["application_and_pledge", "hukou_proof", "id_card", "school_level_proof", "study_record",
                    "residence_proof", "guardian_work_proof"]


class Transfer(_Model):
    from_school: School
    to_school: School
    reason: Literal["hukou_move", "residence_move", "guardian_job_transfer", "other"]
    semester_start: Date
    current_grade: Annotated[Grade | None, NOT_NULL] = None
    target_grade: Annotated[Grade | None, NOT_NULL] = None
    from_abroad: Annotated[bool | None, NOT_NULL] = None
    household: Annotated[Household | None, NOT_NULL] = None
    materials: Annotated[list[_Material], Field(max_length=16)] = Field(default_factory=list)
    liaoning_gaokao_eligible: bool | None = None
    other_policy_violation: Annotated[bool | None, NOT_NULL] = None


class Suspension(_Model):
    reason: Literal["illness", "other"]
    start: Date
    medical_certificate_level: MedicalLevel | None = None
    written_application: Annotated[bool | None, NOT_NULL] = None
    major_accident_or_serious_illness: Annotated[bool | None, NOT_NULL] = None
    school_agrees: Annotated[bool | None, NOT_NULL] = None


class Resumption(_Model):
    requested_return: Date
    medical_certificate_level: MedicalLevel | None = None
    school_agrees: Annotated[bool | None, NOT_NULL] = None
    written_application: Annotated[bool | None, NOT_NULL] = None


class Withdrawal(_Model):
    trigger: Literal["guardian_request", "no_return_after_suspension", "suspended_two_years", "truancy"]
    written_application: Annotated[bool | None, NOT_NULL] = None
    consecutive_truancy_weeks: Count = 0
    cumulative_truancy_weeks: Count = 0
    family_contact_failed: Annotated[bool | None, NOT_NULL] = None
    school_council_approved: Annotated[bool | None, NOT_NULL] = None
    family_notified: Annotated[bool | None, NOT_NULL] = None


class Graduation(_Model):
    credits_earned: Number
    credits_required: Annotated[Number | None, NOT_NULL] = None  # absent: the parameter graduation_credits
    study_period_complete: bool
    proficiency_exams: Annotated[list[Exam], Field(max_length=64)] = Field(default_factory=list)
    assessed_subjects: Annotated[list[Exam], Field(max_length=64)] = Field(default_factory=list)
    evaluation: Annotated[Evaluation | None, NOT_NULL] = None


class Sanction(_Model):
    level: SanctionLevel
    serious_violation: Annotated[bool | None, NOT_NULL] = None
    repeated_education_failed: Annotated[bool | None, NOT_NULL] = None
    parents_consulted: Annotated[bool | None, NOT_NULL] = None
    notified_in_advance: Annotated[bool | None, NOT_NULL] = None
    school_council_approved: Annotated[bool | None, NOT_NULL] = None
    bureau_approved: Annotated[bool | None, NOT_NULL] = None
    criminal_sentence: Annotated[bool | None, NOT_NULL] = None
    offence_during_probation: Annotated[bool | None, NOT_NULL] = None


class Revocation(_Model):
    level: SanctionLevel
    decided_on: Date
    repentant: Annotated[bool | None, NOT_NULL] = None
    school_council_approved: Annotated[bool | None, NOT_NULL] = None


class Appeal(_Model):
    stage: Literal["school", "city_bureau"]
    review_decision_received_on: Date | None = None


class InfoChange(_Model):
    field: Literal["name", "gender", "ethnicity", "birth_date", "id_number", "photo", "address", "other"]
    requested_by: Literal["guardian", "student", "school"]
    documents: Annotated[list[Literal["hukou_booklet_copy", "other_proof_copy"]], Field(max_length=16)] = \
        Field(default_factory=list)


class Reissue(_Model):
    certificate: Literal["graduation", "equivalency"]
    previous_reissues: Count


class Cancellation(_Model):
    death_on: Date
    proof: Annotated[bool | None, NOT_NULL] = None


# --------------------------------------------------------------------------- case


class Case(_Model):
    case_id: Annotated[Str200 | None, NOT_NULL] = None
    action: Action
    date: Date
    student: Student
    registration: Annotated[Registration | None, NOT_NULL] = None
    transfer: Annotated[Transfer | None, NOT_NULL] = None
    suspension: Annotated[Suspension | None, NOT_NULL] = None
    resumption: Annotated[Resumption | None, NOT_NULL] = None
    withdrawal: Annotated[Withdrawal | None, NOT_NULL] = None
    graduation: Annotated[Graduation | None, NOT_NULL] = None
    sanction: Annotated[Sanction | None, NOT_NULL] = None
    revocation: Annotated[Revocation | None, NOT_NULL] = None
    appeal: Annotated[Appeal | None, NOT_NULL] = None
    info_change: Annotated[InfoChange | None, NOT_NULL] = None
    reissue: Annotated[Reissue | None, NOT_NULL] = None
    cancellation: Annotated[Cancellation | None, NOT_NULL] = None

    @model_validator(mode="after")
    def _section_matches_action(self) -> Case:
        want = ACTION_SECTIONS[self.action]
        if getattr(self, want) is None:
            raise ValueError(f"操作 '{self.action}' 需要 '{want}' 部分")
        others = [s for s in SECTIONS if s != want and getattr(self, s) is not None]
        if others:
            raise ValueError(f"'{others[0]}' 不属于操作 '{self.action}'")
        return self

    @property
    def section_name(self) -> str:
        return ACTION_SECTIONS[self.action]

    @property
    def section(self) -> BaseModel:
        """The section belonging to the case's action."""
        return getattr(self, self.section_name)


# --------------------------------------------------------------------------- decision


class _Out(BaseModel):
    """Decisions come from the engine, not from callers: plain types, checked in pydantic's core."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


_Pos = Annotated[int, Field(strict=True, ge=1)]
_Text200 = Annotated[str, Field(strict=True, max_length=200)]
_Text1000 = Annotated[str, Field(strict=True, max_length=1000)]


class Reason(_Out):
    rule: _Text200
    article: _Pos
    paragraph: _Pos | None
    item: _Pos | None
    subitem: _Pos | None
    cite: _Text200
    message: _Text1000


class Obligation(_Out):
    rule: _Text200
    article: _Pos | None = None
    paragraph: _Pos | None = None
    item: _Pos | None = None
    subitem: _Pos | None = None
    cite: _Text200
    message: _Text1000
    due: dt.date | None


class Warning_(_Out):
    code: _Text200
    rule: _Text200 | None = None
    cite: _Text200 | None = None
    message: _Text1000


class RulesetInfo(_Out):
    version: _Text200
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Decision(_Out):
    case_id: _Text200 | None
    action: Action
    decision: Literal["allow", "deny"]
    outcome: Outcome | None
    reasons: Annotated[list[Reason], Field(max_length=200)]
    basis: Annotated[list[Reason], Field(max_length=200)]
    obligations: Annotated[list[Obligation], Field(max_length=200)]
    approvals: Annotated[list[ApprovalBody], Field(max_length=4)]
    ruleset: RulesetInfo
    trace: Annotated[list[dict[str, Any]], Field(max_length=10000)] | None = None
    warnings: Annotated[list[Warning_], Field(max_length=200)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _trace_absent_not_null(cls, data: Any) -> Any:
        if isinstance(data, dict) and "trace" in data and data["trace"] is None:
            raise ValueError("'trace' 可以省略，但不能为 null")
        return data

    @model_validator(mode="after")
    def _check(self) -> Decision:
        if self.decision == "deny" and not self.reasons:
            raise ValueError("deny 的决定必须至少有一条理由")
        if len(set(self.approvals)) != len(self.approvals):
            raise ValueError("approvals 不得重复")
        return self

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"

    def to_dict(self) -> dict:
        """A JSON-ready dict matching ``decision.schema.json``: dates as ISO strings;
        ``case_id`` and ``outcome`` always present; ``trace`` only when set; an
        obligation's optional article/paragraph/item/subitem only when set."""
        d = self.model_dump(mode="json")
        if self.trace is None:
            d.pop("trace", None)
        if not self.warnings:
            d.pop("warnings", None)
        for ob in d["obligations"]:
            for k in ("article", "paragraph", "item", "subitem"):
                if ob.get(k) is None:
                    ob.pop(k, None)
        return d


def decision_from_dict(d: dict, ruleset=None) -> Decision:
    """A ``Decision`` from the engine's JSON-ready dict.

    Without ``ruleset`` it is validated by pydantic's core.  With the rule set that made
    it (the hot path of ``evaluate``), the models are assembled without re-validating
    what the engine built from checked rules: each rule's Reason model is made once,
    and the decision is put together from parts — the tests hold the result equal to
    the validated one on every case they generate.
    """
    if ruleset is None:
        return Decision.model_validate(d)
    reason = ruleset.reason_model
    obligations = []
    for o in d["obligations"]:
        due = o["due"]
        obligations.append(_assemble(Obligation, {**_OBLIGATION_DEFAULTS, **o,
                                                  "due": dt.date.fromisoformat(due) if due else None}))
    info = ruleset.info_model()
    return _assemble(Decision, {
        "case_id": d["case_id"], "action": d["action"], "decision": d["decision"], "outcome": d["outcome"],
        "reasons": [reason(r) for r in d["reasons"]], "basis": [reason(r) for r in d["basis"]],
        "obligations": obligations, "approvals": list(d["approvals"]), "ruleset": info,
        "trace": d.get("trace"),
        "warnings": [Warning_.model_validate(w) for w in d["warnings"]] if d.get("warnings") else None})


_OBLIGATION_DEFAULTS = {"article": None, "paragraph": None, "item": None, "subitem": None}


_set_dict = object.__setattr__


def _assemble(cls, values: dict):
    """What ``model_construct`` does for fully given values, minus its per-field Python loop."""
    m = cls.__new__(cls)
    _set_dict(m, "__dict__", values)
    fields = set(_FIELDS_SET[cls])
    if values.get("trace") is not None:
        fields.add("trace")
    if values.get("warnings") is not None:
        fields.add("warnings")
    _set_dict(m, "__pydantic_fields_set__", fields)
    _set_dict(m, "__pydantic_extra__", None)
    _set_dict(m, "__pydantic_private__", None)
    return m


# Every field is given (trace only when explaining).
_FIELDS_SET = {cls: frozenset(set(cls.model_fields) - {"trace", "warnings"}) for cls in (Decision, Obligation)}
