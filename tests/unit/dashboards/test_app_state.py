"""The dashboards' SQLite store: schema, users, append-only decisions and access log, concurrent sessions."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import stat
import threading
import time
from datetime import UTC, date, datetime

import numpy as np
import pytest

from dashboards import app_state
from dashboards.app_state import (
    FLAGGED_REASON_MIN_LENGTH,
    SCHEMA_VERSION,
    AppState,
    check_flag_reason,
    evaluation_of,
    validate_weights,
)
from dashboards.i18n import LocalizedError

NOW = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)
TODAY = NOW.date()
PASSWORD = "a long enough passphrase"
WEIGHTS = {"communication": 0.3, "logical_thinking": 0.3, "teamwork": 0.4}
FLAGS = ("Impact ratio for female applicants falls from 0.86 to 0.74, below the four-fifths line.",)
GOOD_FLAG_REASON = (
    "Adverse impact for female applicants is checked: the drop comes from 9 hires in one quarter, "
    "we approve for six months and re-audit the impact ratio in June."
)


@pytest.fixture
def state(tmp_path):
    s = AppState(tmp_path / "app_state.sqlite", clock=lambda: NOW)
    s.create_user("admin", PASSWORD, "admin")
    s.create_user("lead", PASSWORD, "talent_leader")
    s.create_user("ana", PASSWORD, "hr_analyst")
    s.create_user("head", PASSWORD, "department_head", department="Sales")
    return s


def _raw(state: AppState) -> sqlite3.Connection:
    return sqlite3.connect(state.path, isolation_level=None)


def approve(state: AppState, **kw):
    args = dict(
        recommendation_id="rec-sales-1",
        job_family="sales",
        decision="approved",
        reason="Out-of-sample validity rises from 0.21 to 0.29.",
        decided_by="lead",
        weights=WEIGHTS,
        effective_from=TODAY,
    )
    args.update(kw)
    return state.record_decision(**args)


EDITED = {"communication": 0.4, "logical_thinking": 0.2, "teamwork": 0.4}


def evaluated(weights=EDITED, flagged=False, flags=(), recommendation_id="rec-sales-1", **kw):
    """The gate's verdict on `weights`, as the desk's what-if hands it to the store."""
    return evaluation_of(recommendation_id, weights, flagged=flagged, flags=flags, **kw)


def edit(state: AppState, weights=EDITED, evaluation=None, **kw):
    """An edited decision carrying the evaluation of its own weights (unless told otherwise)."""
    kw.setdefault("reason", "Teamwork predicts retention here better than the model credits.")
    return approve(state, decision="edited", weights=weights, evaluation=evaluation or evaluated(weights), **kw)


# schema


def test_schema_is_created_once_and_reopening_is_idempotent(tmp_path):
    path = tmp_path / "s.sqlite"
    AppState(path)
    AppState(path)
    with sqlite3.connect(path) as conn:
        versions = conn.execute("select version from schema_version").fetchall()
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type in ('table', 'view')")}
        mode = conn.execute("pragma journal_mode").fetchone()[0]
    assert versions == [(v,) for v in range(1, SCHEMA_VERSION + 1)]
    assert {"users", "review_decisions", "access_log", "schema_version", "latest_review_decisions"} <= tables
    assert mode == "wal"


def test_store_file_is_owner_only(tmp_path):
    s = AppState(tmp_path / "s.sqlite")
    assert stat.S_IMODE(os.stat(s.path).st_mode) == 0o600


def test_a_newer_schema_than_the_code_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    AppState(path)
    with sqlite3.connect(path) as conn:
        conn.execute("insert into schema_version values (?, 'later')", (SCHEMA_VERSION + 1,))
    with pytest.raises(RuntimeError, match="schema version"):
        AppState(path)


# users


def test_create_and_get_user(state):
    head = state.get_user("HEAD ")
    assert head is not None
    assert (head.username, head.role, head.department, head.language, head.disabled) == (
        "head",
        "department_head",
        "Sales",
        "en",
        False,
    )
    assert state.get_user("nobody") is None
    assert [u.username for u in state.list_users()] == ["admin", "ana", "head", "lead"]
    assert not hasattr(head, "password_hash")


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        (dict(username="x", role="hr_analyst"), "error.username_invalid"),
        (dict(username="bad name", role="hr_analyst"), "error.username_invalid"),
        (dict(username="zed", role="superuser"), "error.role_unknown"),
        (dict(username="zed", role="department_head"), "error.department_required"),
        (dict(username="zed", role="department_head", department="  "), "error.department_required"),
        (dict(username="zed", role="hr_analyst", language="fr"), "error.language_unknown"),
        (dict(username="zed", role="hr_analyst", password="short"), "error.password_too_short"),
        (dict(username="ana", role="hr_analyst"), "error.user_exists"),
    ],
)
def test_create_user_rejects_bad_input(state, kwargs, key):
    kwargs.setdefault("password", PASSWORD)
    with pytest.raises(LocalizedError) as err:
        state.create_user(**kwargs)
    assert err.value.key == key


def test_department_head_needs_a_department_in_the_table_too(state):
    with _raw(state) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "insert into users (username, password_hash, role, created_at) values ('x', 'h', 'department_head', 'now')"
        )


def test_set_role_language_and_disable(state):
    user = state.set_role("ana", "department_head", department="Operations", by="admin")
    assert (user.role, user.department) == ("department_head", "Operations")
    state.set_language("ana", "zh-CN")
    assert state.get_user("ana").language == "zh-CN"
    state.disable_user("ana", by="admin")
    assert state.get_user("ana").disabled
    state.enable_user("ana")
    assert not state.get_user("ana").disabled
    actions = list(state.access_log(username="admin")["action"])
    assert actions == ["disable ana", "set_role ana department_head Operations"]


def test_the_last_enabled_admin_cannot_be_demoted_or_disabled(state):
    with pytest.raises(LocalizedError, match="last enabled administrator"):
        state.disable_user("admin")
    with pytest.raises(LocalizedError, match="last enabled administrator"):
        state.set_role("admin", "hr_analyst")
    state.create_user("admin2", PASSWORD, "admin")
    state.disable_user("admin")
    assert state.get_user("admin").disabled


def test_set_password_changes_the_hash(state):
    before = state.password_hash("ana")
    state.set_password("ana", "another long passphrase")
    assert state.password_hash("ana") != before
    with pytest.raises(LocalizedError):
        state.set_password("ana", "short")


# review decisions: append-only


def test_review_decisions_and_access_log_reject_update_and_delete(state):
    approve(state)
    state.log_access("ana", "talent_pool", "view", candidate_key="c_7f3a")
    with _raw(state) as conn:
        for sql in (
            "update review_decisions set decision = 'rejected'",
            "delete from review_decisions",
            "update access_log set username = 'lead'",
            "delete from access_log",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(sql)
    assert len(state.decisions()) == 1
    assert len(state.access_log()) == 1


def test_the_api_offers_no_way_to_change_or_remove_a_decision():
    verbs = ("update", "delete", "remove", "edit", "amend")
    assert not [n for n in dir(AppState) if "decision" in n and n.startswith(verbs)]


# review decisions: rules


def test_approved_decision_is_stored_with_its_weights(state):
    d = approve(state)
    assert d.decision_id == 1
    assert d.weights == WEIGHTS
    frame = state.decisions()
    row = frame.iloc[0]
    assert json.loads(row["weights_json"]) == WEIGHTS
    assert row["effective_from"] == TODAY.isoformat()
    assert row["decided_by"] == "lead"
    assert row["decided_at"] == NOW.isoformat(timespec="microseconds")
    assert not row["flagged"] and not row["flag_acknowledged"]


def test_rejection_needs_a_reason_and_carries_no_weights(state):
    d = state.record_decision(
        "rec-1", "sales", "rejected", reason="Too few hires with 12-month outcomes.", decided_by="lead"
    )
    assert d.weights is None and d.effective_from is None
    with pytest.raises(LocalizedError) as err:
        state.record_decision("rec-1", "sales", "rejected", reason="no", decided_by="lead")
    assert err.value.key == "error.reason_too_short"
    with pytest.raises(LocalizedError) as err:
        state.record_decision("rec-1", "sales", "rejected", reason="   ", decided_by="lead")
    assert err.value.key == "error.field_required"
    with pytest.raises(LocalizedError) as err:
        state.record_decision(
            "rec-1", "sales", "rejected", reason="Too few hires with outcomes.", decided_by="lead", weights=WEIGHTS
        )
    assert err.value.key == "error.rejection_has_weights"


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        (dict(decision="maybe"), "error.decision_unknown"),
        (dict(weights=None), "error.weights_required"),
        (dict(effective_from=None), "error.effective_from_required"),
        (dict(effective_from=date(2025, 3, 9)), "error.effective_from_past"),
        (dict(effective_from="10/03/2025"), "error.effective_from_not_date"),
        (dict(effective_from=NOW), "error.effective_from_not_date"),
        (dict(decided_by="ana"), "error.not_a_reviewer"),
        (dict(decided_by="head"), "error.not_a_reviewer"),
        (dict(decided_by="ghost"), "error.not_a_reviewer"),
        (dict(reason="fine"), "error.reason_too_short"),
    ],
)
def test_decision_rules(state, kwargs, key):
    with pytest.raises(LocalizedError) as err:
        approve(state, **kwargs)
    assert err.value.key == key
    assert state.decisions().empty


def test_effective_from_accepts_an_iso_date_string_and_a_future_date(state):
    assert approve(state, effective_from="2025-04-01").effective_from == date(2025, 4, 1)


def test_a_disabled_reviewer_cannot_decide(state):
    state.disable_user("lead")
    with pytest.raises(LocalizedError, match="may not record"):
        approve(state)


def test_admin_may_decide(state):
    assert approve(state, decided_by="admin").decided_by == "admin"


@pytest.mark.parametrize(
    ("weights", "key"),
    [
        ({}, "error.weights_empty"),
        ({"a": -0.1, "b": 1.1}, "error.weights_negative"),
        ({"a": 0.5, "b": 0.4}, "error.weights_sum"),
        ({"a": 0.5, "b": 0.5 + 2e-6}, "error.weights_sum"),
        ({"a": float("nan"), "b": 1.0}, "error.weights_not_number"),
        ({"a": float("inf")}, "error.weights_not_number"),
        ({"a": True}, "error.weights_not_number"),
        ({"a": "1"}, "error.weights_not_number"),
        ({"": 1.0}, "error.weights_bad_key"),
        ([("a", 1.0)], "error.weights_empty"),
    ],
)
def test_weights_validation_rejects(weights, key):
    with pytest.raises(LocalizedError) as err:
        validate_weights(weights)
    assert err.value.key == key


def test_weights_validation_accepts_within_tolerance_and_numpy_numbers():
    assert validate_weights({"a": 0.5, "b": 0.5 - 5e-7}) == {"a": 0.5, "b": 0.5 - 5e-7}
    assert validate_weights({"a": np.float64(0.25), "b": np.float32(0.75), "c": 0}) == {"a": 0.25, "b": 0.75, "c": 0.0}
    assert validate_weights({str(i): 0.1 for i in range(10)})  # ten times 0.1 is not exactly 1.0 in floating point


def test_weights_are_checked_against_the_recommendation(state):
    recommended = dict(WEIGHTS)
    with pytest.raises(LocalizedError, match="use Edit"):
        approve(
            state,
            weights={"communication": 0.4, "logical_thinking": 0.2, "teamwork": 0.4},
            recommended_weights=recommended,
        )
    with pytest.raises(LocalizedError, match="use Approve"):
        edit(state, weights=WEIGHTS, recommended_weights=recommended)
    with pytest.raises(LocalizedError, match="same competencies"):
        edit(state, weights={"communication": 1.0}, recommended_weights=recommended)
    edited = edit(state, recommended_weights=recommended)
    assert edited.decision == "edited"


# review decisions: the fairness flag


def test_flagged_approval_without_acknowledgement_raises(state):
    with pytest.raises(LocalizedError) as err:
        approve(state, flagged=True, flags=FLAGS, reason=GOOD_FLAG_REASON)
    assert err.value.key == "error.flag_not_acknowledged"


@pytest.mark.parametrize(
    ("reason", "key"),
    [
        ("Impact looks acceptable to me.", "error.flag_reason_too_short"),
        ("The validity gain is large and the business needs better hires this year.", "error.flag_reason_unaddressed"),
        (FLAGS[0] + " Approved.", "error.flag_reason_too_short"),
    ],
)
def test_flagged_approval_with_an_inadequate_reason_raises(state, reason, key):
    with pytest.raises(LocalizedError) as err:
        approve(state, flagged=True, flags=FLAGS, flag_acknowledged=True, reason=reason)
    assert err.value.key == key
    assert state.decisions().empty


def test_flagged_approval_with_an_adequate_reason_succeeds(state):
    d = approve(state, flagged=True, flags=FLAGS, flag_acknowledged=True, reason=GOOD_FLAG_REASON)
    assert d.flagged and d.flag_acknowledged and d.flags == FLAGS
    row = state.decisions().iloc[0]
    assert json.loads(row["flags_json"]) == list(FLAGS)
    assert row["flagged"] and row["flag_acknowledged"]


def test_flagged_reason_may_name_the_group_instead_of_the_impact(state):
    reason = "Female applicants' selection rate is monitored monthly; we accept this for one cycle only."
    with pytest.raises(LocalizedError):
        approve(state, flagged=True, flags=FLAGS, flag_acknowledged=True, reason=reason)
    d = approve(state, flagged=True, flags=FLAGS, flagged_groups=["female"], flag_acknowledged=True, reason=reason)
    assert d.decision == "approved"


def test_flagged_reason_in_chinese(state):
    reason = (
        "已核查女性候选人的不利影响：差异来自一个季度的九名录用者，样本很小，"
        "我们批准半年试行，并于六月重新审计影响比，如仍低于基线则撤回。"
    )
    assert len(reason) >= FLAGGED_REASON_MIN_LENGTH
    assert approve(state, flagged=True, flags=FLAGS, flag_acknowledged=True, reason=reason).decision == "approved"


def test_flagged_edit_needs_the_same_care_and_rejection_does_not(state):
    with pytest.raises(LocalizedError) as err:
        edit(
            state,
            evaluation=evaluated(flagged=True, flags=FLAGS),
            flag_acknowledged=True,
            reason="Edited the weights to favour teamwork.",
        )
    assert err.value.key == "error.flag_reason_too_short"
    d = state.record_decision(
        "rec-sales-1",
        "sales",
        "rejected",
        reason="Rejected: fairness flag.",
        decided_by="lead",
        flagged=True,
        flags=FLAGS,
    )
    assert d.decision == "rejected"


def test_flagged_without_flag_texts_raises(state):
    with pytest.raises(LocalizedError) as err:
        approve(state, flagged=True, flag_acknowledged=True, reason=GOOD_FLAG_REASON)
    assert err.value.key == "error.flag_texts_missing"


def test_check_flag_reason_ignores_pasted_flag_text():
    padded = FLAGS[0] + " ok ok ok"
    with pytest.raises(LocalizedError):
        check_flag_reason(padded, FLAGS)
    check_flag_reason(GOOD_FLAG_REASON, FLAGS)


# review decisions: reading


def test_latest_decision_per_recommendation_and_job_family_filter(state):
    approve(state, recommendation_id="rec-sales-1")
    state.record_decision(
        "rec-sales-1", "sales", "rejected", reason="Reversed after the June audit.", decided_by="admin"
    )
    approve(state, recommendation_id="rec-ops-1", job_family="operations")
    assert list(state.decisions()["decision_id"]) == [1, 2, 3]
    assert list(state.decisions(job_family="sales")["decision_id"]) == [1, 2]
    latest = state.latest_decision_per_recommendation()
    assert dict(zip(latest["recommendation_id"], latest["decision"], strict=True)) == {
        "rec-sales-1": "rejected",
        "rec-ops-1": "approved",
    }
    assert list(state.latest_decision_per_recommendation("operations")["recommendation_id"]) == ["rec-ops-1"]


def test_the_pipeline_can_read_decisions_read_only(state):
    approve(state)
    conn = sqlite3.connect(f"file:{state.path}?mode=ro", uri=True)
    try:
        rows = conn.execute("select recommendation_id, decision from latest_review_decisions").fetchall()
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("insert into schema_version values (99, 'x')")
    finally:
        conn.close()
    assert rows == [("rec-sales-1", "approved")]


def test_empty_frames_have_their_columns(state):
    assert "weights_json" in state.decisions().columns
    assert "candidate_key" in state.access_log().columns


# access log


def test_access_log_rows_and_filters(state):
    state.log_access("ana", "talent_pool", "view", candidate_key="c_7f3a")
    state.log_access("ana", "talent_pool", "export_csv")
    state.log_access("HEAD", "retention", "view", candidate_key="c_7f3a")
    log = state.access_log()
    assert list(log["log_id"]) == [3, 2, 1]
    assert list(log.columns) == ["log_id", "at", "username", "page", "candidate_key", "action"]
    assert list(state.access_log(candidate_key="c_7f3a")["username"]) == ["head", "ana"]
    assert list(state.access_log(username="ana", page="talent_pool")["action"]) == ["export_csv", "view"]
    assert len(state.access_log(limit=1)) == 1
    assert len(state.access_log(since=NOW)) == 3
    assert state.access_log(since=datetime(2026, 1, 1, tzinfo=UTC)).empty
    assert set(log["at"]) == {NOW.isoformat(timespec="microseconds")}


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        (dict(username="ana", page="payroll", action="view"), "error.page_unknown"),
        (dict(username="ghost", page="funnel", action="view"), "error.user_unknown"),
        (dict(username="ana", page="funnel", action=""), "error.field_required"),
        (
            dict(username="ana", page="funnel", action="view", candidate_key="jane@example.com"),
            "error.candidate_key_invalid",
        ),
        (dict(username="ana", page="funnel", action="view", candidate_key="Jane Doe"), "error.candidate_key_invalid"),
    ],
)
def test_access_log_refuses_bad_rows(state, kwargs, key):
    with pytest.raises(LocalizedError) as err:
        state.log_access(**kwargs)
    assert err.value.key == key
    assert state.access_log().empty


# concurrency


def test_two_instances_see_each_others_writes(state):
    other = AppState(state.path, clock=lambda: NOW)
    other.create_user("lead2", PASSWORD, "talent_leader")
    approve(state, decided_by="lead2")
    assert len(other.decisions()) == 1
    other.log_access("lead2", "weight_review", "view")
    assert len(state.access_log(username="lead2")) == 1


def test_concurrent_writers_from_two_instances_lose_nothing(state):
    a = state
    b = AppState(state.path)
    errors: list[BaseException] = []

    def work(s: AppState, user: str) -> None:
        try:
            for i in range(25):
                s.log_access(user, "talent_pool", "view", candidate_key=f"c_{i}")
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assert below
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(s, u)) for s, u in ((a, "ana"), (b, "ana"), (a, "head"), (b, "lead"))
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert len(a.access_log()) == 100
    assert len(b.access_log()) == 100


def test_a_writer_waits_for_another_writer_instead_of_failing(state):
    other = AppState(state.path)
    blocker = sqlite3.connect(state.path, isolation_level=None, check_same_thread=False)
    blocker.execute("begin immediate")
    release = threading.Timer(0.3, lambda: blocker.execute("commit"))
    release.start()
    started = time.monotonic()
    other.log_access("ana", "funnel", "view")
    waited = time.monotonic() - started
    release.join()
    blocker.close()
    assert waited >= 0.2
    assert len(state.access_log()) == 1


def test_an_open_reader_does_not_block_a_writer(state):
    reader = sqlite3.connect(f"file:{state.path}?mode=ro", uri=True, isolation_level=None)
    reader.execute("begin")
    assert reader.execute("select count(*) from access_log").fetchone()[0] == 0
    started = time.monotonic()
    state.log_access("ana", "funnel", "view")
    assert time.monotonic() - started < 1
    # The reader keeps its snapshot until its transaction ends: the pipeline sees a consistent store.
    assert reader.execute("select count(*) from access_log").fetchone()[0] == 0
    reader.execute("commit")
    assert reader.execute("select count(*) from access_log").fetchone()[0] == 1
    reader.close()


# review decisions: an edit is judged by the gate on its own weights


def test_an_edit_without_the_evaluation_of_its_weights_is_refused(state):
    with pytest.raises(LocalizedError) as err:
        approve(state, decision="edited", weights=EDITED, reason="Teamwork matters more than the model says.")
    assert err.value.key == "error.edit_not_evaluated"
    # Evaluated weights that are not the recorded weights: the leader changed a number after the what-if ran.
    other = {"communication": 0.5, "logical_thinking": 0.1, "teamwork": 0.4}
    with pytest.raises(LocalizedError) as err:
        edit(state, weights=other, evaluation=evaluated(EDITED))
    assert err.value.key == "error.weights_not_evaluated"
    with pytest.raises(LocalizedError) as err:
        edit(state, evaluation=evaluated(recommendation_id="rec-ops-1"))
    assert err.value.key == "error.evaluation_other_recommendation"
    # A verdict changed after it was made (flag dropped) no longer matches its fingerprint.
    flagged = evaluated(flagged=True, flags=FLAGS)
    with pytest.raises(LocalizedError) as err:
        edit(state, evaluation=dataclasses.replace(flagged, flagged=False, flags=()))
    assert err.value.key == "error.evaluation_altered"
    with pytest.raises(LocalizedError) as err:
        edit(state, evaluation=dataclasses.replace(evaluated(), weights=dict(other)), weights=other)
    assert err.value.key == "error.evaluation_altered"
    assert state.decisions().empty


def test_a_flagged_edit_needs_the_acknowledgement_and_a_reason_addressing_its_own_flags(state):
    flags = ("The proposed weights lower the selection impact ratio of female (sex) from 0.88 to 0.70.",)
    verdict = evaluated(flagged=True, flags=flags, flagged_groups=("female", "女性"))
    with pytest.raises(LocalizedError) as err:
        edit(state, evaluation=verdict, reason=GOOD_FLAG_REASON)
    assert err.value.key == "error.flag_not_acknowledged"
    with pytest.raises(LocalizedError) as err:
        edit(state, evaluation=verdict, flag_acknowledged=True, reason=flags[0] + " Accepted for now.")
    assert err.value.key == "error.flag_reason_too_short"
    with pytest.raises(LocalizedError) as err:
        edit(
            state,
            evaluation=verdict,
            flag_acknowledged=True,
            reason="Teamwork predicts retention and the business needs it badly this year.",
        )
    assert err.value.key == "error.flag_reason_unaddressed"
    reason = "We accept the lower rate for female applicants for one quarter and re-audit monthly."
    d = edit(state, evaluation=verdict, flag_acknowledged=True, reason=reason)
    assert d.flagged and d.flag_acknowledged and d.flags == flags
    assert d.evaluation_fingerprint == verdict.fingerprint
    row = state.decisions().iloc[0]
    assert json.loads(row["flags_json"]) == list(flags)
    gate = json.loads(row["gate_json"])
    assert gate["flagged"] and gate["weights"] == EDITED and gate["fingerprint"] == verdict.fingerprint


def test_the_edit_is_judged_by_its_own_verdict_not_the_recommendations(state):
    # The recommendation was flagged, the edit fixes it: no acknowledgement needed, and the store keeps the edit's
    # (clear) verdict. The gate's verdict comes from one place only.
    d = edit(state, evaluation=evaluated(detail={"source": "whatif", "flag_rows": []}))
    assert not d.flagged and d.gate["source"] == "whatif"
    with pytest.raises(ValueError, match="once"):
        edit(state, flagged=True, flags=FLAGS)


def test_a_rejection_records_the_gate_state_it_rejected(state):
    verdict = evaluated(WEIGHTS, flagged=True, flags=FLAGS, existing_impact=True)
    d = state.record_decision(
        "rec-sales-1",
        "sales",
        "rejected",
        reason="Not while the female ratio falls.",
        decided_by="lead",
        evaluation=verdict,
    )
    assert d.weights is None and d.flagged and d.flags == FLAGS and not d.flag_acknowledged
    row = state.decisions().iloc[0]
    gate = json.loads(row["gate_json"])
    assert gate["existing_impact"] and gate["flagged"] and row["evaluation_fingerprint"] == verdict.fingerprint


def test_the_file_refuses_an_edit_without_an_evaluation(state):
    with _raw(state) as conn, pytest.raises(sqlite3.IntegrityError, match="gate evaluation"):
        conn.execute(
            "insert into review_decisions (recommendation_id, job_family, decision, weights_json, effective_from,"
            " reason, flagged, flags_json, flag_acknowledged, decided_by, decided_at)"
            " values ('r', 'sales', 'edited', '{}', '2025-04-01', 'a reason that is long enough', 0, '[]', 0,"
            " 'lead', '2025-03-10')"
        )


def test_a_version_1_store_is_migrated_and_keeps_its_decisions(tmp_path, monkeypatch):
    path = tmp_path / "old.sqlite"
    monkeypatch.setattr(app_state, "SCHEMA_VERSION", 1)
    old = AppState(path, clock=lambda: NOW)
    old.create_user("lead", PASSWORD, "talent_leader")
    with _raw(old) as conn:
        conn.execute(
            "insert into review_decisions (recommendation_id, job_family, decision, weights_json, effective_from,"
            " reason, flagged, flags_json, flag_acknowledged, decided_by, decided_at)"
            " values ('rec-sales-1', 'sales', 'approved', ?, '2025-03-10', 'Validity rises from 0.21 to 0.29.', 0,"
            " '[]', 0, 'lead', '2025-03-10T09:30:00')",
            (json.dumps(WEIGHTS),),
        )
    monkeypatch.undo()
    new = AppState(path, clock=lambda: NOW)
    assert new.schema_version() == SCHEMA_VERSION
    row = new.decisions().iloc[0]
    assert row["decision"] == "approved" and row["gate_json"] is None
    assert edit(new).decision == "edited"
