"""Synthetic PII: names, e-mails and phone numbers that look like real exports (none belongs to a real person)."""

from __future__ import annotations

import numpy as np


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# First names by gender ("f" female, "m" male) and region group; nonbinary and blank draw from both.
FIRST_NAMES = {
    "en": {
        "f": ("Emma", "Olivia", "Ava", "Sophia", "Mia", "Grace", "Chloe", "Hannah", "Laura", "Sarah", "Emily", "Anna"),
        "m": ("James", "Liam", "Noah", "Oliver", "Ethan", "Lucas", "Daniel", "Thomas", "Jack", "Ryan", "David", "Adam"),
    },
    "es": {
        "f": ("Maria", "Lucia", "Sofia", "Valentina", "Camila", "Isabela", "Fernanda", "Gabriela", "Ana", "Paula"),
        "m": ("Jose", "Juan", "Carlos", "Mateo", "Diego", "Santiago", "Pedro", "Miguel", "Andres", "Rafael"),
    },
    "apac": {
        "f": ("Priya", "Ananya", "Mei", "Yuki", "Siti", "Aiko", "Divya", "Grace", "Nur", "Kavya"),
        "m": ("Arjun", "Rahul", "Wei", "Haruto", "Rizal", "Kenji", "Vikram", "Ravi", "Daniel", "Amit"),
    },
}
LAST_NAMES = {
    "en": _words(
        "Smith Johnson Brown Taylor Wilson Davies Evans Thomas Miller Moore "
        "Clark Walker Wright Green Baker Hall Schmidt Muller Nowak Dubois"
    ),
    "es": _words("Garcia Rodriguez Martinez Lopez Gonzalez Perez Sanchez Ramirez Torres Flores Silva Santos"),
    "apac": _words("Sharma Patel Singh Kumar Tan Lim Ng Sato Suzuki Tanaka Nguyen Lee Wong"),
}
# Chinese names: (characters, pinyin). Names in CN exports are in characters; e-mails and resumes use pinyin.
ZH_SURNAMES = tuple(
    zip(
        "王李张刘陈杨黄赵吴周徐孙马朱",
        _words("Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu"),
        strict=True,
    )
)
ZH_GIVEN = {
    "f": tuple(
        zip(
            _words("芳 娜 敏 静 丽 婷 雪 欣怡 雨涵 思琪"),
            _words("Fang Na Min Jing Li Ting Xue Xinyi Yuhan Siqi"),
            strict=True,
        )
    ),
    "m": tuple(
        zip(
            _words("伟 强 磊 军 洋 勇 杰 浩然 子轩 宇航"),
            _words("Wei Qiang Lei Jun Yang Yong Jie Haoran Zixuan Yuhang"),
            strict=True,
        )
    ),
}
REGION_NAME_GROUP = {"NA": "en", "EMEA": "en", "APAC": "apac", "LATAM": "es", "CN": "zh"}
EMAIL_DOMAINS = {
    "en": ("gmail.com", "outlook.com", "yahoo.com", "icloud.com"),
    "es": ("gmail.com", "hotmail.com", "outlook.com"),
    "apac": ("gmail.com", "yahoo.co.in", "outlook.com"),
    "zh": ("qq.com", "163.com", "126.com"),
}
PHONE_PREFIX = {"NA": "+1", "EMEA": "+44", "APAC": "+65", "LATAM": "+52", "CN": "+86"}
WORK_EMAIL_DOMAIN = "talentloop-demo.example"


def _pick(rng: np.random.Generator, options: tuple, n: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]


def make_names(
    rng: np.random.Generator, regions: np.ndarray, genders: np.ndarray, numbers: np.ndarray
) -> dict[str, np.ndarray]:
    """full_name (as the HR systems hold it), ascii_name (resumes), personal email and phone, per person."""
    n = len(regions)
    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    full = np.empty(n, dtype=object)
    sex = np.where(genders == "female", "f", np.where(genders == "male", "m", np.where(rng.random(n) < 0.5, "f", "m")))
    groups = np.vectorize(REGION_NAME_GROUP.get, otypes=[object])(regions)
    for group in ("en", "es", "apac"):
        for s in ("f", "m"):
            idx = np.flatnonzero((groups == group) & (sex == s))
            first[idx] = _pick(rng, FIRST_NAMES[group][s], len(idx))
        idx = np.flatnonzero(groups == group)
        last[idx] = _pick(rng, LAST_NAMES[group], len(idx))
        full[idx] = first[idx] + " " + last[idx]
    zh = np.flatnonzero(groups == "zh")
    if len(zh):
        sur = rng.integers(0, len(ZH_SURNAMES), len(zh))
        given = rng.integers(0, 10, len(zh))
        for j, i in enumerate(zh):
            surname, surname_py = ZH_SURNAMES[sur[j]]
            name, name_py = ZH_GIVEN[sex[i]][given[j]]
            full[i] = surname + name
            first[i], last[i] = name_py, surname_py
    ascii_name = first + " " + last
    domains = np.empty(n, dtype=object)
    for group, options in EMAIL_DOMAINS.items():
        idx = np.flatnonzero(groups == group)
        domains[idx] = _pick(rng, options, len(idx))
    # The running number keeps e-mails unique, so e-mail is a reliable link key when present.
    local = np.char.lower((first + "." + last).astype(str)).astype(object)
    email = local + "." + numbers.astype(str).astype(object) + "@" + domains
    work_email = local + "." + numbers.astype(str).astype(object) + "@" + WORK_EMAIL_DOMAIN
    digits = rng.integers(1_000_000, 9_999_999, n).astype(str).astype(object)
    prefix = np.vectorize(PHONE_PREFIX.get, otypes=[object])(regions)
    phone = prefix + " " + rng.integers(200, 999, n).astype(str).astype(object) + " " + digits
    return {
        "full_name": full,
        "ascii_name": ascii_name,
        "email": email,
        "work_email": work_email,
        "phone": phone,
    }
