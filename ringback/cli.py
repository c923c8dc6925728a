"""`ringback` command line: serve, init, keys, templates, workspaces, review-link, doctor,
backup, restore, health.

Every command takes --config, --data-dir and --database-url (before or after the sub-command), so one
installation can be named the same way to each of them.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from ringback import __version__, backup
from ringback.cluster.leases import ClusterMisconfigured
from ringback.cluster.partitions import PARTITIONS
from ringback.cluster.single_node import AnotherNodeRunning
from ringback.config import Settings, SettingsError, load_settings
from ringback.demo import banner, bootstrap
from ringback.engine.errors import InvalidInput
from ringback.engine.template import parse_template
from ringback.engine.workspace_settings import parse_changes, with_default_sender
from ringback.storage import accounts, enrollments, leases, templates
from ringback.storage.db import is_sqlite, open_database
from ringback.storage.migrations import SchemaTooNew, migrate
from ringback.tokens import TokenSigner, load_or_create_secret, review_link


def _now():
    from ringback.clock import SystemClock

    return SystemClock().now()


def _settings(args: argparse.Namespace) -> Settings:
    """Defaults < --config file < RINGBACK_* environment < --data-dir / --database-url."""
    return load_settings(
        config_file=getattr(args, "config", None),
        data_dir=getattr(args, "data_dir", None),
        database_url=getattr(args, "database_url", None),
    )


def _bound_url(settings: Settings) -> str:
    """Where this machine reaches the server directly: the bind address, an any-address as loopback."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "", "::") else settings.host  # noqa: S104 - compared, not bound
    return f"http://{host}:{settings.port}"


def _local_url(settings: Settings) -> str:
    """The base URL to show in a ready-to-paste curl: the public URL when set, else the bind address."""
    return settings.resolved_public_url if settings.public_url else _bound_url(settings)


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
        print(banner(bootstrap(_now()), _local_url(settings)), flush=True)
    node = Node(settings).start()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: node.stop())
    print(f"ringback listening on http://{settings.host}:{settings.port}", flush=True)
    node.serve()
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _open(settings)
    existing = next((ws for ws in accounts.list_workspaces() if ws.name == args.workspace), None)
    if existing is not None:
        _print(
            args,
            {"workspace_id": existing.id, "existing": True},
            f"workspace {existing.name!r} already exists ({existing.id}); nothing created.\n"
            f"A new key for it: ringback keys create --workspace {existing.id}",
        )
        return 0
    admins = tuple(args.admin_email or ())
    result = bootstrap(_now(), name=args.workspace, admin_emails=admins)
    _print(
        args,
        {"workspace_id": result.workspace_id, "api_key": result.api_key, "template_id": result.template_id},
        banner(result, _local_url(settings)),
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
        workspace = accounts.get_workspace(args.workspace)
        if workspace is None:
            raise SystemExit(f"no workspace {args.workspace}")
        try:
            body = with_default_sender(json.loads(Path(args.file).read_text()), workspace.default_sender)
            template = parse_template(body)
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
    elif args.workspaces_command == "plans":
        for plan, features in accounts.PLANS.items():
            print(f"{plan:10} {', '.join(sorted(features)) or '(no API access)'}")
    elif args.workspaces_command == "update":
        _update_workspace(args)
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


def _update_workspace(args: argparse.Namespace) -> None:
    """The flags as a PATCH /api/v1/workspace body, through the same validation as the API."""
    current = accounts.get_workspace(args.workspace)
    if current is None:
        raise SystemExit(f"no workspace {args.workspace}")
    body: dict[str, object] = {}
    if args.admin_email is not None:
        body["admin_emails"] = [] if args.admin_email == [""] else args.admin_email
    for name in ("default_language", "default_timezone"):
        if getattr(args, name) is not None:
            body[name] = getattr(args, name)
    if args.default_region is not None:
        body["default_region"] = None if args.default_region.lower() == "none" else args.default_region
    if args.calling_window is not None or args.calling_days is not None:
        start, _, end = (args.calling_window or f"{current.window_start}-{current.window_end}").partition("-")
        body["calling_window"] = {"start": start, "end": end, "days": args.calling_days or current.window_days}
    sender = {k: getattr(args, f"sender_{k}") for k in ("name", "email", "phone") if getattr(args, f"sender_{k}")}
    if sender:
        body["default_sender"] = {**(current.default_sender or {}), **sender}
    if args.sending_limits is not None:
        body["sending_limits"] = _json_flag(args.sending_limits, "sending_limits")
    try:
        changes = parse_changes(body)
    except InvalidInput as error:
        raise SystemExit(f"{error.field}: {error.message}") from None
    accounts.update_workspace(args.workspace, **changes)
    view = accounts.get_workspace(args.workspace).settings_view()
    _print(args, view, "\n".join(f"{key}: {json.dumps(value)}" for key, value in view.items()))


def _json_flag(text: str, name: str) -> object:
    """A flag holding a JSON value; `none` is null."""
    if text.strip().lower() == "none":
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise SystemExit(f"{name}: not valid JSON (quote it for the shell)") from None


def cmd_backup(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        done = backup.backup(settings.resolved_database_url, Path(args.file))
    except backup.BackupError as error:
        raise SystemExit(f"ringback backup: {error}") from None
    print(f"backed up {done.source} to {done.target}: schema version {done.schema_version}, "
          f"{done.enrollments} enrollments")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        done = backup.restore(Path(args.file), settings.resolved_database_url)
    except backup.BackupError as error:
        raise SystemExit(f"ringback restore: {error}") from None
    print(f"restored {done.source} into {done.target}: schema version {done.schema_version}, "
          f"{done.enrollments} enrollments; migrations it lacks run when the server starts")
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    """Exit 0 when the server answers /healthz: for container HEALTHCHECKs, which have no curl."""
    import urllib.error
    import urllib.request

    url = (args.url or _bound_url(_settings(args))).rstrip("/") + "/healthz"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as response:  # noqa: S310 - an http(s) URL we build
            healthy = response.status == 200
    except (urllib.error.URLError, OSError) as error:
        print(f"{url}: {error}", file=sys.stderr)
        return 1
    print(f"{url}: {'ok' if healthy else 'unhealthy'}")
    return 0 if healthy else 1


def cmd_cluster(args: argparse.Namespace) -> int:
    """`cluster status`: the nodes sharing this PostgreSQL database, their partitions and how fresh their leases are."""
    settings = _settings(args)
    db = open_database(settings.resolved_database_url)
    if is_sqlite(db):
        raise SystemExit("ringback cluster: SQLite runs one node; cluster mode needs PostgreSQL (docs/operations.md)")
    migrate(db)
    nodes, unowned = leases.status(db), leases.unowned(db)
    data = {
        "nodes": [
            {
                "node_id": n.node_id,
                "started_at": n.started_at.isoformat(),
                "heartbeat_age_seconds": round(n.heartbeat_age_seconds, 1),
                "partitions": len(n.partitions),
                "lease_expires_in_seconds": None
                if n.lease_expires_in_seconds is None
                else round(n.lease_expires_in_seconds, 1),
            }
            for n in nodes
        ],
        "unowned_partitions": unowned,
    }
    lines = [f"{'node':<32} {'partitions':>10} {'heartbeat age':>14} {'lease expires in':>17}"]
    for row in data["nodes"]:
        expires = "-" if row["lease_expires_in_seconds"] is None else f"{row['lease_expires_in_seconds']} s"
        lines.append(
            f"{row['node_id']:<32} {row['partitions']:>10} {str(row['heartbeat_age_seconds']) + ' s':>14} {expires:>17}"
        )
    lines.append(f"unowned partitions: {unowned} of {PARTITIONS}")
    _print(args, data, "\n".join(lines))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from ringback.doctor import run_checks

    return run_checks(_settings(args))


def _common() -> argparse.ArgumentParser:
    """Options every command and sub-command takes; SUPPRESS keeps a leaf from erasing the parent's value."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help="TOML settings file (environment variables win)")
    common.add_argument(
        "--data-dir",
        default=argparse.SUPPRESS,
        help="directory of the SQLite database and the server secret (wins over RINGBACK_DATA_DIR)",
    )
    common.add_argument(
        "--database-url",
        default=argparse.SUPPRESS,
        help="sqlite:///path or postgresql://... (wins over RINGBACK_DATABASE_URL)",
    )
    return common


JSON_HELP = "print one JSON object instead of text"
WORKSPACE_HELP = "workspace id (ws_...)"


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(prog="ringback", description="Self-hosted speed-to-lead outreach engine.")
    parser.add_argument("--version", action="version", version=f"ringback {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, func, help_text: str, epilog: str | None = None) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            parents=[common],
            help=help_text,
            description=help_text,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(func=func)
        return p

    def leaf(group, name: str, help_text: str) -> argparse.ArgumentParser:
        return group.add_parser(name, parents=[common], help=help_text, description=help_text)

    command(
        "serve",
        cmd_serve,
        "Run the HTTP API and the actors.",
        "settings (environment variables, or keys of the --config TOML file in lower case):\n"
        + Settings().describe(),
    )
    p = command(
        "init",
        cmd_init,
        "Create a workspace, a ck_test_ key and the demo template; print a ready-to-paste curl. "
        "A workspace of that name that already exists is left alone.",
    )
    p.add_argument("--workspace", default="Demo workspace", help="name of the workspace to create")
    p.add_argument("--admin-email", action="append", help="an admin who gets review emails (repeatable)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)

    keys = command("keys", cmd_keys, "Create, list and revoke API keys.")
    ksub = keys.add_subparsers(dest="keys_command", required=True)
    p = leaf(ksub, "create", "Create a key; the plain key is printed once.")
    p.add_argument("--workspace", required=True, help=WORKSPACE_HELP)
    p.add_argument("--live", action="store_true", help="a ck_live_ key (real providers)")
    p.add_argument("--scopes", default="read,write", help="read, write or read,write (default)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    leaf(ksub, "list", "List a workspace's keys (prefixes only).").add_argument(
        "--workspace", required=True, help=WORKSPACE_HELP
    )
    leaf(ksub, "revoke", "Revoke a key at once.").add_argument("key_id", help="key id (key_...)")

    tpl = command("templates", cmd_templates, "Create and list templates.")
    tsub = tpl.add_subparsers(dest="templates_command", required=True)
    p = leaf(tsub, "create", "Create a template from a JSON file (the body of POST /api/v1/templates).")
    p.add_argument("--workspace", required=True, help=WORKSPACE_HELP)
    p.add_argument("--file", required=True, help="template JSON file")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    leaf(tsub, "list", "List a workspace's templates.").add_argument("--workspace", required=True, help=WORKSPACE_HELP)

    ws = command("workspaces", cmd_workspaces, "Create, list, change and re-plan workspaces.")
    wsub = ws.add_subparsers(dest="workspaces_command", required=True)
    p = leaf(wsub, "create", "Create an empty workspace.")
    p.add_argument("--name", required=True, help="workspace name")
    p.add_argument("--plan", default="standard", choices=sorted(accounts.PLANS), help="plan (see `workspaces plans`)")
    p.add_argument("--admin-email", action="append", help="an admin who gets review emails (repeatable)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    leaf(wsub, "list", "List workspaces with their plan and features.")
    leaf(wsub, "plans", "List the plans and the features each one includes.")
    p = leaf(wsub, "set-plan", "Move a workspace to another plan.")
    p.add_argument("--workspace", required=True, help=WORKSPACE_HELP)
    p.add_argument("--plan", required=True, choices=sorted(accounts.PLANS), help="the new plan")
    p = leaf(wsub, "update", "Change a workspace's settings (the same rules as PATCH /api/v1/workspace).")
    p.add_argument("--workspace", required=True, help=WORKSPACE_HELP)
    p.add_argument(
        "--admin-email", action="append", help="admin who gets review emails; repeat for several, '' for none"
    )
    p.add_argument("--default-language", help="language when nothing about the lead says one (en, es, fr, ...)")
    p.add_argument("--default-timezone", help="IANA zone when nothing about the lead says one (Europe/Paris)")
    p.add_argument("--default-region", help="country of national-format numbers (FR reads 06 12 34 56 78); none")
    p.add_argument("--calling-window", help="local hours calls and SMS may go out, e.g. 09:00-19:00")
    p.add_argument("--calling-days", help="days calls and SMS may go out, e.g. mon-fri")
    p.add_argument("--sender-name", help="default sender name of templates created without a sender")
    p.add_argument("--sender-email", help="default sender email address")
    p.add_argument("--sender-phone", help="default sender phone number (E.164)")
    p.add_argument(
        "--sending-limits",
        help='caps as JSON, e.g. \'{"email": {"daily": 300}, "email_domain_per_minute": 5}\'; none removes them',
    )
    p.add_argument("--json", action="store_true", help=JSON_HELP)

    p = command(
        "review-link",
        cmd_review_link,
        "Print a review link for an enrollment (valid RINGBACK_REVIEW_TOKEN_TTL_DAYS; it grants approval).",
    )
    p.add_argument("enrollment_id", help="the enrollment awaiting review (enr_...)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)

    cluster = command("cluster", cmd_cluster, "Cluster mode (PostgreSQL): nodes, their partitions, lease ages.")
    csub = cluster.add_subparsers(dest="cluster_command", required=True)
    leaf(csub, "status", "List the nodes, how many partitions each holds, heartbeat and lease ages.").add_argument(
        "--json", action="store_true", help=JSON_HELP
    )

    command("doctor", cmd_doctor, "Check the database, SMTP, Twilio and the LLM key; say what is missing.")
    command(
        "backup", cmd_backup, "Copy the SQLite database to FILE while the server runs (PostgreSQL: use pg_dump)."
    ).add_argument("file", help="the backup file to write (must not exist)")
    command(
        "restore", cmd_restore, "Restore a backup FILE into an empty data directory (the server must be stopped)."
    ).add_argument("file", help="a file written by `ringback backup`")
    p = command("health", cmd_health, "Exit 0 when the server answers GET /healthz (for container health checks).")
    p.add_argument("--url", help="base URL of the server; default the configured host and port")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the answer")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (SettingsError, SchemaTooNew, AnotherNodeRunning, ClusterMisconfigured) as error:
        print(f"ringback: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
