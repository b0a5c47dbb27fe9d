"""Translation catalogues: zh-CN covers every English key with the same placeholders; lookups fall back sensibly."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from dashboards import auth, i18n
from dashboards.app_state import DECISIONS
from dashboards.i18n import (
    LocalizedError,
    catalogue,
    competency_name,
    job_family_name,
    normalize_language,
    page_title,
    role_name,
    t,
)

COMPETENCIES_ZH = {
    "communication": "沟通能力",
    "logical_thinking": "逻辑思维",
    "teamwork": "团队协作",
    "problem_solving": "问题解决",
    "customer_orientation": "客户服务意识",
    "learning_agility": "学习能力",
}
JOB_FAMILIES = ("software_engineering", "customer_service", "sales", "operations", "finance_risk")
LABELS = (
    "login",
    "logout",
    "username",
    "password",
    "approve",
    "reject",
    "edit",
    "reason",
    "download_csv",
    "download_excel",
    "no_data",
    "suppressed",
)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_english_key_exists_in_chinese_and_no_extra_keys():
    en, zh = catalogue("en"), catalogue("zh-CN")
    assert sorted(set(en) - set(zh)) == []
    assert sorted(set(zh) - set(en)) == []


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_no_empty_texts(lang):
    assert [k for k, v in catalogue(lang).items() if not v.strip()] == []


def test_placeholders_match_between_languages():
    en, zh = catalogue("en"), catalogue("zh-CN")
    assert {k: _placeholders(v) for k, v in en.items()} == {k: _placeholders(zh[k]) for k in en}


def test_competency_names():
    for code, zh in COMPETENCIES_ZH.items():
        assert competency_name(code, "zh-CN") == zh
        assert competency_name(code, "en") not in {code, zh}


def test_domain_vocabularies_are_complete():
    en = catalogue("en")
    for prefix, codes in (
        ("job_family", JOB_FAMILIES),
        ("page", auth.PAGES),
        ("role", auth.ROLES),
        ("decision", DECISIONS),
        ("label", LABELS),
    ):
        assert [c for c in codes if f"{prefix}.{c}" not in en] == [], prefix
    assert t("label.suppressed", "zh-CN") == "<5"
    assert page_title("weight_review", "zh-CN") == "权重审核"
    assert job_family_name("finance_risk", "en") == "Finance and risk"
    assert role_name("department_head", "zh-CN") == "部门负责人"


def test_every_error_key_raised_in_the_code_has_a_text():
    source = "\n".join(p.read_text(encoding="utf-8") for p in Path(i18n.__file__).parent.glob("*.py"))
    keys = set(re.findall(r'LocalizedError\(\s*"([a-z_.]+)"', source))
    assert len(keys) > 20
    assert sorted(keys - set(catalogue("en"))) == []


def test_fallbacks():
    assert t("page.funnel", "fr") == "Hiring funnel"
    assert t("page.funnel", None) == "Hiring funnel"
    assert t("no.such.key", "zh-CN") == "no.such.key"
    assert competency_name("resilience", "zh-CN") == "resilience"


def test_falls_back_to_english_for_a_key_missing_in_chinese(monkeypatch):
    zh = dict(catalogue("zh-CN"))
    del zh["label.login"]
    real = i18n.catalogue

    def patched(lang):
        return zh if lang == "zh-CN" else real(lang)

    monkeypatch.setattr(i18n, "catalogue", patched)
    assert i18n.t("label.login", "zh-CN") == "Log in"
    assert i18n.t("label.logout", "zh-CN") == "退出登录"


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("zh", "zh-CN"),
        ("zh_CN", "zh-CN"),
        ("ZH-cn", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("en-US", "en"),
        ("", "en"),
        ("de", "en"),
    ],
)
def test_normalize_language(tag, expected):
    assert normalize_language(tag) == expected


def test_formatting_and_localized_errors():
    assert t("label.data_as_of", "zh-CN", date="2025-03-10") == "数据截至 2025-03-10"
    err = LocalizedError("error.reason_too_short", min=20)
    assert str(err) == "The reason must have at least 20 characters."
    assert err.message("zh-CN") == "理由至少需要 20 个字符。"
    assert isinstance(err, ValueError)
