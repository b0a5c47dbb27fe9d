"""Translations for the dashboards: `t(key, lang)` over flat JSON catalogues in `locales/`, English as the fallback."""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).with_name("locales")
DEFAULT_LANGUAGE = "en"
LANGUAGES = ("en", "zh-CN")

# Browsers and users spell Chinese many ways; all of them mean the one simplified-Chinese catalogue we ship.
_ALIASES = {
    "en": "en",
    "en-us": "en",
    "en-gb": "en",
    "zh": "zh-CN",
    "zh-cn": "zh-CN",
    "zh_cn": "zh-CN",
    "zh-hans": "zh-CN",
    "zh-hans-cn": "zh-CN",
}

log = logging.getLogger(__name__)


def normalize_language(lang: str | None) -> str:
    """Map a language tag to one we ship; anything unknown reads as English."""
    if not lang:
        return DEFAULT_LANGUAGE
    return _ALIASES.get(lang.strip().lower(), DEFAULT_LANGUAGE)


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The flat key → text mapping of one shipped language."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; shipped: {', '.join(LANGUAGES)}")
    with (LOCALES_DIR / f"{lang}.json").open(encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ValueError(f"{lang}.json must be one flat object of string keys and string values")
    return data


def t(key: str, /, lang: str | None = DEFAULT_LANGUAGE, **fmt: Any) -> str:
    """The text for `key` in `lang`, else English, else the key itself; `fmt` fills `{named}` placeholders."""
    text = catalogue(normalize_language(lang)).get(key)
    if text is None:
        text = catalogue(DEFAULT_LANGUAGE).get(key)
    if text is None:
        # Showing the key keeps the page usable; the completeness test is what keeps this from shipping.
        log.warning("missing translation key %r", key)
        return key
    return text.format(**fmt) if fmt else text


def _display_name(prefix: str, code: str, lang: str | None) -> str:
    key = f"{prefix}.{code}"
    # A code the catalogue does not know yet (a new competency from a vendor mapping) shows as itself, not as a key.
    return t(key, lang) if key in catalogue(DEFAULT_LANGUAGE) else code


def competency_name(code: str, lang: str | None = DEFAULT_LANGUAGE) -> str:
    """Display name of a canonical competency code."""
    return _display_name("competency", code, lang)


def job_family_name(code: str, lang: str | None = DEFAULT_LANGUAGE) -> str:
    """Display name of a job family code."""
    return _display_name("job_family", code, lang)


def page_title(page: str, lang: str | None = DEFAULT_LANGUAGE) -> str:
    """Title of a dashboard page."""
    return _display_name("page", page, lang)


def role_name(role: str, lang: str | None = DEFAULT_LANGUAGE) -> str:
    """Display name of a user role."""
    return _display_name("role", role, lang)


class LocalizedError(ValueError):
    """A rejected input whose message the page can show in the user's language via `message(lang)`."""

    def __init__(self, key: str, /, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(t(key, DEFAULT_LANGUAGE, **params))

    def message(self, lang: str | None) -> str:
        """The message in `lang`."""
        return t(self.key, lang, **self.params)
