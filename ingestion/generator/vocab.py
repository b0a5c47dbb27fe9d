"""The generator's vocabulary: competencies and every label and rating word it emits, job families, regions, vendors.

This module is the one place the seeds are checked against (tests/unit/generator/test_seeds.py): every label a
vendor or scorecard tool here exports must map in dbt_project/seeds/competency_labels.csv, every word in
rating_words.csv. The planted unknown labels and words (faults) are listed here too, and must map nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass

COMPETENCIES: tuple[str, ...] = (
    "communication",
    "logical_thinking",
    "teamwork",
    "problem_solving",
    "customer_orientation",
    "learning_agility",
)

JOB_FAMILIES: tuple[str, ...] = (
    "software_engineering",
    "customer_service",
    "sales",
    "operations",
    "finance_risk",
)
CUSTOMER_FACING: tuple[str, ...] = ("customer_service", "sales")

# Label sets as exporters spell them, in COMPETENCIES order.
LABELS_EN_TITLE = (
    "Communication",
    "Logical Thinking",
    "Teamwork",
    "Problem Solving",
    "Customer Orientation",
    "Learning Agility",
)
LABELS_VENDOR_CODES = ("COMM_SKILLS", "LOGIC_REASONING", "TEAM_COLLAB", "PROB_SOLVING", "CUST_FOCUS", "LEARN_AGILITY")
LABELS_ABBREVIATED = ("comm.", "logic", "teamwork", "problem solving", "cust. orientation", "learning")
LABELS_ZH = ("沟通能力", "逻辑思维", "团队协作", "问题解决", "客户服务意识", "学习能力")

LABEL_SETS: dict[str, tuple[str, ...]] = {
    "en_title": LABELS_EN_TITLE,
    "vendor_codes": LABELS_VENDOR_CODES,
    "abbreviated": LABELS_ABBREVIATED,
    "zh": LABELS_ZH,
}
LABEL_SET_LANGUAGE = {"en_title": "en", "vendor_codes": "en", "abbreviated": "en", "zh": "zh"}
LABEL_SET_ORIGIN = {"en_title": "vendor", "vendor_codes": "vendor", "abbreviated": "scorecard", "zh": "vendor"}

# Common variants the generator does not emit but real exports contain; the seed maps them too.
EXTRA_LABELS: tuple[tuple[str, str, str, str], ...] = (
    ("communication", "communication", "en", "canonical"),
    ("logical_thinking", "logical_thinking", "en", "canonical"),
    ("teamwork", "teamwork", "en", "canonical"),
    ("problem_solving", "problem_solving", "en", "canonical"),
    ("customer_orientation", "customer_orientation", "en", "canonical"),
    ("learning_agility", "learning_agility", "en", "canonical"),
    ("Communication Skills", "communication", "en", "legacy"),
    ("Verbal Communication", "communication", "en", "legacy"),
    ("COMMUNICATION", "communication", "en", "legacy"),
    ("Logical Reasoning", "logical_thinking", "en", "legacy"),
    ("Analytical Thinking", "logical_thinking", "en", "legacy"),
    ("LOGICAL THINKING", "logical_thinking", "en", "legacy"),
    ("Collaboration", "teamwork", "en", "legacy"),
    ("Team Work", "teamwork", "en", "legacy"),
    ("TEAMWORK", "teamwork", "en", "legacy"),
    ("Problem-Solving", "problem_solving", "en", "legacy"),
    ("PROBLEM SOLVING", "problem_solving", "en", "legacy"),
    ("Customer Focus", "customer_orientation", "en", "legacy"),
    ("Customer Service Orientation", "customer_orientation", "en", "legacy"),
    ("CUSTOMER ORIENTATION", "customer_orientation", "en", "legacy"),
    ("Learning Ability", "learning_agility", "en", "legacy"),
    ("Growth Mindset", "learning_agility", "en", "legacy"),
    ("LEARNING AGILITY", "learning_agility", "en", "legacy"),
    ("表达能力", "communication", "zh", "legacy"),
    ("逻辑推理", "logical_thinking", "zh", "legacy"),
    ("团队合作", "teamwork", "zh", "legacy"),
    ("解决问题能力", "problem_solving", "zh", "legacy"),
    ("客户导向", "customer_orientation", "zh", "legacy"),
    ("学习敏锐度", "learning_agility", "zh", "legacy"),
)

# Labels that are real competencies, just not ours: planted as unknown_label faults, never in the seed.
UNKNOWN_LABELS: tuple[str, ...] = ("Leadership Presence", "Culture Fit", "抗压能力", "EXEC_PRESENCE")

# Rating words per scorecard tool, from best to worst, with the value the seed gives them.
WORDS_GREENHOUSE = ("strong_yes", "yes", "no", "definitely_not")
WORDS_LEVER = ("strong_hire", "hire", "no_hire", "strong_no_hire")
WORD_VALUES: dict[str, float] = {
    "strong_yes": 1.0,
    "yes": 0.67,
    "no": 0.33,
    "definitely_not": 0.0,
    "strong_hire": 1.0,
    "hire": 0.67,
    "no_hire": 0.33,
    "strong_no_hire": 0.0,
}
# Not emitted, but sensible for the seed: a neutral word some tools export.
EXTRA_WORDS: dict[str, float] = {"mixed": 0.5, "neutral": 0.5}
UNKNOWN_RATING_WORDS: tuple[str, ...] = ("maybe", "strong_maybe", "tbd")


@dataclass(frozen=True)
class AiVendor:
    name: str
    scale_min: float
    scale_max: float
    label_set: str
    language: str
    model_versions: tuple[str, str]  # before and after the mid-world model upgrade


AI_VENDORS: tuple[AiVendor, ...] = (
    AiVendor("vidassess", 1.0, 5.0, "en_title", "en", ("va-2023.4", "va-2024.2")),
    AiVendor("talentlens", 0.0, 100.0, "vendor_codes", "en", ("tl-7.1", "tl-7.3")),
    AiVendor("zhiping", 0.0, 10.0, "zh", "zh", ("zp-v3", "zp-v4")),
)


@dataclass(frozen=True)
class ScorecardTool:
    name: str
    scale_min: float
    scale_max: float
    words: tuple[str, ...] | None  # None: numeric ratings


SCORECARD_TOOLS: tuple[ScorecardTool, ...] = (
    ScorecardTool("scorecard_1_5", 1.0, 5.0, None),
    ScorecardTool("scorecard_1_10", 1.0, 10.0, None),
    ScorecardTool("words_greenhouse", 0.0, 1.0, WORDS_GREENHOUSE),
    ScorecardTool("words_lever", 0.0, 1.0, WORDS_LEVER),
)

REGIONS: tuple[str, ...] = ("NA", "EMEA", "APAC", "LATAM", "CN")
JURISDICTIONS: dict[str, tuple[str, ...]] = {
    "NA": ("US-CA", "US-NY", "US-IL", "US-TX", "CA-ON"),
    "EMEA": ("GB", "DE", "FR", "PL"),
    "APAC": ("SG", "IN", "AU", "JP"),
    "LATAM": ("BR", "MX", "CO"),
    "CN": ("CN-SH", "CN-BJ", "CN-SZ"),
}
REGION_AI_VENDOR = {
    "NA": "vidassess",
    "LATAM": "vidassess",
    "EMEA": "talentlens",
    "APAC": "talentlens",
    "CN": "zhiping",
}

DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "software_engineering": ("Platform Engineering", "Data Engineering", "Mobile Apps"),
    "customer_service": ("Customer Care", "Technical Support"),
    "sales": ("Inside Sales", "Field Sales"),
    "operations": ("Fulfilment Operations", "Business Operations"),
    "finance_risk": ("Credit Risk", "Financial Control"),
}
JOB_TITLES: dict[str, tuple[str, ...]] = {
    "software_engineering": ("Software Engineer", "Senior Software Engineer", "Data Engineer", "QA Engineer"),
    "customer_service": ("Customer Service Representative", "Support Specialist", "Contact Centre Agent"),
    "sales": ("Account Executive", "Sales Development Representative", "Account Manager"),
    "operations": ("Operations Analyst", "Operations Coordinator", "Logistics Specialist"),
    "finance_risk": ("Risk Analyst", "Financial Analyst", "Credit Officer"),
}

GENDERS = ("female", "male", "nonbinary", "")
ETHNICITIES = ("asian", "black", "hispanic_latino", "white", "multiracial", "other", "")
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55+", "")
SOURCE_CHANNELS = ("job_board", "career_site", "referral", "agency", "campus", "social_media")
EDUCATION_LEVELS = ("high_school", "associate", "bachelor", "master", "phd")

TERMINATION_REASONS = {
    "voluntary": ("better_opportunity", "compensation", "relocation", "career_change", "personal"),
    "involuntary": ("performance", "misconduct", "attendance"),
}
FAILED_PROBATION_REASON = "failed_probation"
COMPLAINT_CHANNELS = ("phone", "email", "chat", "social_media", "survey")
COMPLAINT_CATEGORIES = ("rudeness", "wrong_information", "slow_response", "unresolved_issue", "misselling")
SEVERITIES = ("low", "medium", "high")
ERASURE_SCOPES = ("all", "recordings", "analytics")

# Candidate speech containing any of these (case-insensitive substring) counts as a customer-care mention.
CARE_LEXICON: tuple[str, ...] = (
    "customer",
    "listen",
    "empathy",
    "patience",
    "satisfaction",
    "客户",
    "倾听",
    "耐心",
    "同理心",
    "满意",
)


def emitted_labels() -> dict[str, tuple[str, str, str]]:
    """Every competency label the generator writes: label -> (competency_code, language, origin)."""
    out: dict[str, tuple[str, str, str]] = {}
    for name, labels in LABEL_SETS.items():
        for code, label in zip(COMPETENCIES, labels, strict=True):
            out[label] = (code, LABEL_SET_LANGUAGE[name], LABEL_SET_ORIGIN[name])
    return out


def emitted_words() -> dict[str, float]:
    """Every rating word the generator writes, with its value on 0-1."""
    return {w: WORD_VALUES[w] for tool in SCORECARD_TOOLS if tool.words for w in tool.words}


def competency_label_rows() -> list[tuple[str, str, str, str]]:
    """Rows of the competency_labels seed: (label, competency_code, language, origin)."""
    rows = [(label, *meta) for label, meta in emitted_labels().items()]
    seen = {r[0] for r in rows}
    rows += [r for r in EXTRA_LABELS if r[0] not in seen]
    return rows


def rating_word_rows() -> list[tuple[str, float]]:
    """Rows of the rating_words seed: (word, value_0_1)."""
    return list({**WORD_VALUES, **EXTRA_WORDS}.items())
