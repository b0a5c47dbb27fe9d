"""The administration page's view of the accounts (never the password hashes)."""

from __future__ import annotations

import pandas as pd

from dashboards.app_state import AppState


def users_frame(state: AppState) -> pd.DataFrame:
    """One row per account: username, role, department, language, created, disabled."""
    users = state.list_users()
    return pd.DataFrame(
        [(u.username, u.role, u.department, u.language, u.created_at[:16], u.disabled) for u in users],
        columns=["username", "role", "department", "language", "created_at", "disabled"],
    )
