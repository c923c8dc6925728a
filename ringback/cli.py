"""`ringback` command line: serve, init, keys, templates, workspaces, review-link, doctor."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from ringback.config import Settings, SettingsError, load_settings
from ringback.demo import banner, bootstrap
from ringback.engine.errors import InvalidInput
from ringback.engine.template import parse_template
from ringback.storage import accounts, enrollments, templates
from ringback.storage.db import open_database
from ringback.storage.migrations import migrate
from ringback.tokens import TokenSigner, load_or_create_secret, review_link


def _now():
    from ringback.clock import SystemClock

    return SystemClock().now()


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(config_file=getattr(args, "config", None))


def _open(settings: Settings) -> None:
    migrate(open_database(settings.resolved_database_url))


def _print(args: argparse.Namespace, data: dict, text: str) -> None:
    print(json.dumps(data) if getattr(args, "json", False) else text)


def configure_logging(level: str) -> None:
    """Root level from the settings; expected outcomes stay out of the log.

    pykka logs, at INFO and with a traceback, every exception an actor hands back to the thread that asked
    it: for ringback those are answers (404, 409, 422), and any other one reaches falcon's error handler,
    which logs it as an error. waitress warns once per request queued behind busy threads (DESIGN §11).
    """
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("pykka").setLevel(max(logging.WARNING, logging.getLogger().level))
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


def cmd_serve(args: argparse.Namespace) -> int:
    from ringback.node import Node

    settings = _settings(args)
    configure_logging(settings.log_level)
    _open(settings)
    if settings.demo and accounts.count_workspaces() == 0:
        print(banner(bootstrap(_now()), settings.resolved_public_url), flush=True)
    node = Node(settings).start()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: node.stop())
    print(f"ringback listening on http://{settings.host}:{settings.port}", flush=True)
    node.serve()
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _open(settings)
    admins = tuple(args.admin_email or ())
    result = bootstrap(_now(), name=args.workspace, admin_emails=admins)
    _print(
        args,
        {"workspace_id": result.workspace_id, "api_key": result.api_key, "template_id": result.template_id},
        banner(result, settings.resolved_public_url),
    )
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    _open(_settings(args))
    if args.keys_command == "create":
        if accounts.get_workspace(args.workspace) is None:
            raise SystemExit(f"no workspace {args.workspace}")
        scopes = frozenset(s.strip() for s in args.scopes.split(",") if s.strip())
        try:
            key_id, plain = accounts.create_key(args.workspace, _now(), live=args.live, scopes=scopes)
        except ValueError as error:
            raise SystemExit(str(error)) from None
        _print(
            args,
            {"key_id": key_id, "api_key": plain},
            f"key {key_id}: {plain}\n(shown once; only its hash is stored)",
        )
    elif args.keys_command == "list":
        for key in accounts.list_keys(args.workspace):
            state = "revoked" if key.revoked_at else "active"
            print(
                f"{key.key_id}  {key.prefix}…  {key.mode}  {key.scopes}  {state}  last used {key.last_used_at}"
            )
    elif args.keys_command == "revoke":
        if not accounts.revoke_key(args.key_id, _now()):
            raise SystemExit(f"no active key {args.key_id}")
        print(f"revoked {args.key_id}")
    return 0


def cmd_templates(args: argparse.Namespace) -> int:
    _open(_settings(args))
    if args.templates_command == "create":
        if accounts.get_workspace(args.workspace) is None:
            raise SystemExit(f"no workspace {args.workspace}")
        try:
            template = parse_template(json.loads(Path(args.file).read_text()))
        except InvalidInput as error:
            raise SystemExit(f"{args.file}: {error.field}: {error.message}") from None
        template_id = templates.create_template(args.workspace, template, _now())
        _print(args, {"template_id": template_id}, f"template {template_id} created")
    else:
        for view in templates.list_template_views(args.workspace):
            print(f"{view['id']}  {view['name']}  {','.join(view['allowed_channels'])}")
    return 0


def cmd_workspaces(args: argparse.Namespace) -> int:
    _open(_settings(args))
    if args.workspaces_command == "create":
        ws = accounts.create_workspace(
            args.name, _now(), plan=args.plan, admin_emails=tuple(args.admin_email or ())
        )
        _print(args, {"workspace_id": ws.id}, f"workspace {ws.id} created on plan {ws.plan}")
    elif args.workspaces_command == "list":
        for ws in accounts.list_workspaces():
            print(f"{ws.id}  {ws.name}  plan={ws.plan}  features={','.join(sorted(ws.features))}")
    else:
        try:
            accounts.set_plan(args.workspace, args.plan)
        except LookupError as error:
            raise SystemExit(str(error)) from None
        print(f"{args.workspace} is now on plan {args.plan}")
    return 0


def cmd_review_link(args: argparse.Namespace) -> int:
    """Print a fresh review link: links grant approval, so the server never logs them."""
    settings = _settings(args)
    _open(settings)
    workspace_id = enrollments.workspace_of(args.enrollment_id)
    if workspace_id is None:
        raise SystemExit(f"no enrollment {args.enrollment_id}")
    status = enrollments.status_of(workspace_id, args.enrollment_id)
    expires_at = _now() + timedelta(days=settings.review_token_ttl_days)
    signer = TokenSigner(load_or_create_secret(settings.secret_key, settings.data_dir))
    link = review_link(signer, settings.resolved_public_url, args.enrollment_id, expires_at)
    data = {"enrollment_id": args.enrollment_id, "status": status.value, "review_link": link}
    _print(args, {**data, "expires_at": expires_at.isoformat()}, link)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from ringback.doctor import run_checks

    return run_checks(_settings(args))


CONFIG_HELP = "TOML settings file (environment variables win)"


def build_parser() -> argparse.ArgumentParser:
    # `--config` is accepted before or after the sub-command; SUPPRESS keeps a leaf from erasing the parent's value.
    leaf = argparse.ArgumentParser(add_help=False)
    leaf.add_argument("--config", default=argparse.SUPPRESS, help=CONFIG_HELP)
    parser = argparse.ArgumentParser(
        prog="ringback", description="Self-hosted speed-to-lead outreach engine."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, func, help_text: str, epilog: str | None = None) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("--config", help=CONFIG_HELP)
        p.set_defaults(func=func)
        return p

    command(
        "serve",
        cmd_serve,
        "Run the HTTP API and the actors.",
        "settings (environment variables, or keys of the --config TOML file in lower case):\n"
        + Settings().describe(),
    )
    p = command("init", cmd_init, "Create a workspace, a ck_test_ key and the demo template.")
    p.add_argument("--workspace", default="Demo workspace")
    p.add_argument("--admin-email", action="append")
    p.add_argument("--json", action="store_true")

    keys = command("keys", cmd_keys, "Create, list and revoke API keys.")
    ksub = keys.add_subparsers(dest="keys_command", required=True)
    p = ksub.add_parser("create", parents=[leaf])
    p.add_argument("--workspace", required=True)
    p.add_argument("--live", action="store_true", help="a ck_live_ key (real providers)")
    p.add_argument("--scopes", default="read,write")
    p.add_argument("--json", action="store_true")
    ksub.add_parser("list", parents=[leaf]).add_argument("--workspace", required=True)
    ksub.add_parser("revoke", parents=[leaf]).add_argument("key_id")

    tpl = command("templates", cmd_templates, "Create and list templates.")
    tsub = tpl.add_subparsers(dest="templates_command", required=True)
    p = tsub.add_parser("create", parents=[leaf])
    p.add_argument("--workspace", required=True)
    p.add_argument("--file", required=True)
    p.add_argument("--json", action="store_true")
    tsub.add_parser("list", parents=[leaf]).add_argument("--workspace", required=True)

    ws = command("workspaces", cmd_workspaces, "Create, list and change the plan of workspaces.")
    wsub = ws.add_subparsers(dest="workspaces_command", required=True)
    p = wsub.add_parser("create", parents=[leaf])
    p.add_argument("--name", required=True)
    p.add_argument("--plan", default="standard", choices=sorted(accounts.PLANS))
    p.add_argument("--admin-email", action="append")
    p.add_argument("--json", action="store_true")
    wsub.add_parser("list", parents=[leaf])
    p = wsub.add_parser("set-plan", parents=[leaf])
    p.add_argument("--workspace", required=True)
    p.add_argument("--plan", required=True, choices=sorted(accounts.PLANS))

    p = command(
        "review-link",
        cmd_review_link,
        "Print a review link for an enrollment (valid RINGBACK_REVIEW_TOKEN_TTL_DAYS; it grants approval).",
    )
    p.add_argument("enrollment_id")
    p.add_argument("--json", action="store_true")

    command("doctor", cmd_doctor, "Check the database, SMTP, Twilio and the LLM key; say what is missing.")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SettingsError as error:
        print(f"ringback: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
