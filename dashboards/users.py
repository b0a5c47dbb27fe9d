"""Dashboard accounts from the command line: `talentloop user add|passwd|role|disable|list|unlock|attempts`."""

from __future__ import annotations

import argparse
import getpass
import sys

from dashboards.app_state import AppState
from dashboards.auth import bootstrap_message, check_password_policy, login_attempts, unlock
from dashboards.i18n import LocalizedError
from ingestion.settings import Settings


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise SystemExit("The two passwords differ.")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="talentloop user", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="create an account")
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, choices=["hr_analyst", "talent_leader", "department_head", "admin"])
    add.add_argument("--department", help="required for department_head: the only department whose rows they see")
    add.add_argument("--language", default="en", choices=["en", "zh-CN"])
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    pw = sub.add_parser("passwd", help="set a new password")
    pw.add_argument("--username", required=True)
    pw.add_argument("--password-stdin", action="store_true")
    role = sub.add_parser("role", help="change a role")
    role.add_argument("--username", required=True)
    role.add_argument("--role", required=True, choices=["hr_analyst", "talent_leader", "department_head", "admin"])
    role.add_argument("--department")
    dis = sub.add_parser("disable", help="disable an account (accounts are never deleted)")
    dis.add_argument("--username", required=True)
    sub.add_parser("list", help="list accounts")
    unl = sub.add_parser("unlock", help="lift a login lockout of an account name and/or a client address")
    unl.add_argument("--username")
    unl.add_argument("--source", help="the client address, as the login log shows it")
    att = sub.add_parser("attempts", help="the login log, newest first")
    att.add_argument("--limit", type=int, default=50)
    args = parser.parse_args(argv)
    if args.action == "unlock" and not (args.username or args.source):
        parser.error("unlock needs --username and/or --source")

    state = AppState(Settings.from_env().ensure().app_state)
    try:
        if args.action == "add":
            password = _password(args)
            check_password_policy(password, user_inputs=[args.username])  # the name itself is a guessable word
            user = state.create_user(
                args.username, password, args.role, department=args.department, language=args.language
            )
            print(f"Created {user.username} ({user.role}{', ' + user.department if user.department else ''}).")
        elif args.action == "passwd":
            password = _password(args)
            check_password_policy(password, user_inputs=[args.username])
            state.set_password(args.username, password)
            print(f"Password changed for {args.username}.")
        elif args.action == "role":
            user = state.set_role(args.username, args.role, department=args.department)
            print(f"{user.username} is now {user.role}.")
        elif args.action == "unlock":
            lifted = unlock(state, args.username, args.source)
            print(f"{lifted} active lock(s) lifted; the failure count starts again.")
        elif args.action == "attempts":
            for a in login_attempts(state, args.limit):
                known = "" if a["known"] else " (no such account)"
                print(f"{a['at']}  {a['outcome']:<12} {a['username']}{known}  from {a['source'] or 'local'}")
        elif args.action == "disable":
            state.disable_user(args.username)
            print(f"{args.username} is disabled.")
        else:
            for u in state.list_users():
                print(f"{u.username:<24} {u.role:<16} {u.department or '-':<24} {'disabled' if u.disabled else ''}")
            message = bootstrap_message(state)
            if message:
                print(message)
    except LocalizedError as err:
        print(err.message("en"), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
