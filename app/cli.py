"""The `meijing` command: serve the API, migrate the database, seed the demo, add accounts.

Every command reads its configuration from the environment (core.settings), like the server.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from alembic.util.exc import CommandError as AlembicError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import exists, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import InputError
from core.clock import system_clock
from core.db import Sessionmaker, create_engine, create_sessionmaker, writing
from core.settings import Settings, SettingsError
from models import Account, Branch, Member, Role

T = TypeVar("T")

cli = typer.Typer(
    name="meijing",
    help="玫警初心 智慧党建 — Meijing party-building platform.",
    no_args_is_help=True,
    # Tracebacks with locals would print passwords typed on the command line.
    pretty_exceptions_show_locals=False,
)
db_cli = typer.Typer(help="数据库 (database schema).", no_args_is_help=True)
user_cli = typer.Typer(help="账号 (accounts).", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(user_cli, name="user")
sync_cli = typer.Typer(help="离线同步 (offline sync maintenance).", no_args_is_help=True)
cli.add_typer(sync_cli, name="sync")
reminders_cli = typer.Typer(help="督导提醒 (supervision reminders).", no_args_is_help=True)
cli.add_typer(reminders_cli, name="reminders")

# soft_wrap: messages are not broken into lines, so logs and pipes get them whole.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

# Where each field of an InputError comes from on the command line.
OPTION_FOR_FIELD = {
    "username": "USERNAME",
    "password": "--password",
    "memberId": "--member-police-number",
    "branchId": "--branch",
}


class CommandError(Exception):
    """A failure the user can fix; printed without a traceback, exit code 1."""


def main() -> None:
    cli()


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:
        raise _fail(f"配置错误 (bad configuration): {exc}") from exc


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]✗[/] {message}", highlight=False)
    return typer.Exit(1)


def _run_with_db(settings: Settings, work: Callable[[Sessionmaker], Awaitable[T]]) -> T:
    """Runs `work` against a fresh engine, disposed afterwards; database errors print cleanly."""

    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            return await work(create_sessionmaker(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except CommandError as exc:
        raise _fail(str(exc)) from exc
    except (DBAPIError, OSError) as exc:
        # Typically: the server is unreachable, or the tables do not exist yet.
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise _fail(
            f"数据库错误 (database error): {detail}\n"
            "  请确认 DATABASE_URL 正确并已运行 `meijing db upgrade` "
            "(check DATABASE_URL and run `meijing db upgrade` first)"
        ) from exc


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="监听地址 (address to bind)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 (port)")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="进程数 (worker processes)")] = 1,
) -> None:
    """运行 API 服务 (serve the GraphQL API with uvicorn)."""
    import uvicorn

    try:
        # Fail here, once and readably, rather than in every worker process.
        _settings().check()
    except SettingsError as exc:
        raise _fail(str(exc)) from exc
    uvicorn.run(
        "app.factory:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # The app logs every request itself, with its request id.
        access_log=False,
    )


@db_cli.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="目标版本 (target revision)")] = "head",
) -> None:
    """升级数据库结构 (run the migrations up to the latest revision)."""
    from app.migrate import upgrade

    settings = _settings()
    try:
        upgrade(settings.database_url, revision)
    except AlembicError as exc:
        raise _fail(f"迁移失败 (migration failed): {exc}") from exc
    except (DBAPIError, OSError) as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise _fail(f"迁移失败 (migration failed): {detail}") from exc
    out.print(f"[green]✓[/] 数据库已升级到 {revision} (database upgraded)")


@cli.command()
def seed(
    demo: Annotated[
        bool, typer.Option("--demo", help="生成平阴县局演示数据 (the Pingyin demo county)")
    ] = False,
    if_empty: Annotated[
        bool,
        typer.Option("--if-empty", help="仅在数据库为空时生成 (only into an empty database)"),
    ] = False,
) -> None:
    """生成目录和演示数据 (seed the editable catalogs; with --demo also the demo county)."""
    from demo.seed import SEED_STEPS, SeedRefused, check_demo_allowed, seed_catalogs, seed_demo

    settings = _settings()
    if not demo:

        async def catalogs(sessionmaker: Sessionmaker) -> str:
            return (await seed_catalogs(sessionmaker, system_clock)).message

        out.print(f"[green]✓[/] {_run_with_db(settings, catalogs)}", highlight=False)
        return
    try:
        check_demo_allowed(settings)
    except SeedRefused as exc:
        raise _fail(str(exc)) from exc

    async def work(sessionmaker: Sessionmaker) -> None:
        # Catalogs first: idempotent, and wanted in a database that already has a county.
        out.print(f"[green]✓[/] {(await seed_catalogs(sessionmaker, system_clock)).message}")
        if if_empty and not await _is_empty(sessionmaker):
            out.print("[dim]数据库已有数据,跳过演示数据 (database not empty; nothing seeded)[/]")
            return
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=out,
        ) as bar:
            task = bar.add_task("演示数据 (demo data)", total=SEED_STEPS)

            def progress(description: str, advance: int) -> None:
                bar.update(task, description=description, advance=advance)

            try:
                report = await seed_demo(sessionmaker, settings, system_clock, progress)
            except SeedRefused as exc:
                raise CommandError(str(exc)) from exc
        colour = "green" if report.created else "yellow"
        out.print(f"[{colour}]✓[/] {report.message}")
        if report.created:
            out.print(
                f"  演示账号 (demo accounts): {', '.join(report.accounts)} — "
                "密码见 MEIJING_DEMO_PASSWORD (password: MEIJING_DEMO_PASSWORD)"
            )
        if report.skipped_accounts:
            out.print(
                f"[yellow]![/] 用户名已存在,未改动 (usernames taken, left alone): "
                f"{', '.join(report.skipped_accounts)}"
            )

    _run_with_db(settings, work)


async def _is_empty(sessionmaker: Sessionmaker) -> bool:
    async with sessionmaker() as db:
        query = select(
            exists(select(Branch.id)) | exists(select(Member.id)) | exists(select(Account.id))
        )
        return not bool(await db.scalar(query))


@user_cli.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="用户名 (username: a-z 0-9 . _ -)")],
    role: Annotated[Role, typer.Option(help="角色 (role)", case_sensitive=False)],
    password: Annotated[
        str,
        typer.Option(
            prompt="密码 (password)",
            hide_input=True,
            confirmation_prompt=True,
            help="密码;不填则提示输入两次 (prompted twice when omitted)",
        ),
    ],
    member_police_number: Annotated[
        str | None,
        typer.Option(help="关联党员的警号 (police number of the account's member)"),
    ] = None,
    branch: Annotated[
        str | None,
        typer.Option(help="书记管辖的支部名称 (branch name or unit name, for secretaries)"),
    ] = None,
) -> None:
    """添加账号 (add an account)."""
    from resolvers.account import create_account

    settings = _settings()

    async def work(sessionmaker: Sessionmaker) -> str:
        async with writing(sessionmaker) as db:
            member_id = member_name = None
            if member_police_number is not None:
                member_id, member_name = await _member_by_police_number(db, member_police_number)
            branch_id = await _branch_by_name(db, branch) if branch is not None else None
            try:
                account = await create_account(
                    db, system_clock, username, password, role, member_id, branch_id
                )
            except InputError as exc:
                lines = [
                    f"  {OPTION_FOR_FIELD.get(p.field or '', p.field or '-')}: {p.message}"
                    for p in exc.problems
                ]
                raise CommandError(
                    "无法创建账号 (account not created):\n" + "\n".join(lines)
                ) from exc
            who = f",党员 {member_name}" if member_name else ""
            return f"已创建账号 {account.username}({account.role.label}{who})(account created)"

    out.print(f"[green]✓[/] {_run_with_db(settings, work)}", highlight=False)


async def _member_by_police_number(db: AsyncSession, number: str) -> tuple[uuid.UUID, str]:
    row = (
        await db.execute(select(Member.id, Member.name).where(Member.police_number == number))
    ).first()
    if row is None:
        raise CommandError(
            f"--member-police-number: 找不到警号为 {number} 的党员 (no member with that number)"
        )
    return row.id, row.name


async def _branch_by_name(db: AsyncSession, name: str) -> uuid.UUID:
    """An exact branch name wins; otherwise a unit name, which must be unambiguous."""
    exact = (await db.scalars(select(Branch).where(Branch.name == name))).all()
    rows = exact or (await db.scalars(select(Branch).where(Branch.unit_name == name))).all()
    if not rows:
        raise CommandError(f"--branch: 找不到组织 {name} (no branch of that name)")
    if len(rows) > 1:
        names = "、".join(sorted(r.name for r in rows))
        raise CommandError(f"--branch: {name} 不唯一:{names} (ambiguous; use the full name)")
    return rows[0].id


@sync_cli.command("purge-tombstones")
def sync_purge_tombstones(
    days: Annotated[
        int | None,
        typer.Option(min=1, help="保留天数;默认 MEIJING_TOMBSTONE_DAYS (days to keep)"),
    ] = None,
) -> None:
    """清理过期删除记录 (purge tombstones older than the horizon; older devices must resync)."""
    from sync.tombstone import PurgeResult, purge_tombstones

    settings = _settings()
    keep = days if days is not None else settings.tombstone_days

    async def work(sessionmaker: Sessionmaker) -> PurgeResult:
        return await purge_tombstones(sessionmaker, system_clock(), keep)

    result = _run_with_db(settings, work)
    counts = ", ".join(f"{name} {count}" for name, count in result.purged.items())
    out.print(
        f"[green]✓[/] 已清理 {keep} 天前的删除记录 (purged tombstones older than {keep} days): "
        f"{counts}; 检查点下限 (checkpoint floor) {result.floor}",
        highlight=False,
    )


@reminders_cli.command("run")
def reminders_run() -> None:
    """生成督导提醒 (create the reminders that apply now, resolve those that no longer do)."""
    from app.reminders import run_reminders
    from models import ReminderKind
    from resolvers.reminder import GenerationResult

    settings = _settings()

    async def work(sessionmaker: Sessionmaker) -> GenerationResult:
        return await run_reminders(sessionmaker, system_clock(), settings)

    result = _run_with_db(settings, work)
    out.print(f"[green]✓[/] {result.message}", highlight=False)
    for kind in ReminderKind:
        created, resolved = result.created[kind], result.resolved[kind]
        if created or resolved:
            out.print(
                f"  {kind.label} ({kind.value}): 新建 (created) {created}, "
                f"自动办结 (resolved) {resolved}",
                highlight=False,
            )


@cli.command()
def simulate(
    url: Annotated[str, typer.Option(help="服务器地址 (server URL)")] = "http://127.0.0.1:8000",
    devices: Annotated[int, typer.Option(min=1, max=500, help="设备数 (phones)")] = 10,
    records: Annotated[
        int, typer.Option(min=1, help="每台设备的走访记录数 (visits per phone)")
    ] = 100,
    chunk: Annotated[
        int, typer.Option(min=1, max=1000, help="每次同步前离线写入的条数 (writes per sync)")
    ] = 100,
    username: Annotated[str, typer.Option(help="登录账号 (account)")] = "officer.meigui",
    password: Annotated[
        str, typer.Option(envvar="MEIJING_DEMO_PASSWORD", help="密码 (password)")
    ] = "meijing-demo",
) -> None:
    """模拟离线设备同步 (N phones write visits offline and sync against a running server)."""
    from demo.simulate import SimulationError
    from demo.simulate import simulate as run_simulation

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=err, transient=False) as progress:
        task = progress.add_task("同步中 (syncing)", total=devices * records)
        try:
            result = asyncio.run(
                run_simulation(
                    url,
                    username,
                    password,
                    devices,
                    records,
                    chunk,
                    advance=lambda n: progress.advance(task, n),
                )
            )
        except SimulationError as exc:
            raise _fail(str(exc)) from exc
    rate = result.written / result.seconds if result.seconds else 0.0
    out.print(
        f"{devices} 台设备 (devices) × {records} 条走访 (visits): 写入 (written) {result.written}, "
        f"冲突 (conflicts) {result.conflicts}, 隔离 (quarantined) {result.quarantined}, "
        f"服务器缺失 (missing on server) {result.missing}; "
        f"{result.seconds:.1f} s, {rate:,.0f} visits/s",
        highlight=False,
    )
    if result.missing:
        raise _fail(f"{result.missing} 条记录未到达服务器 (records did not reach the server)")


if __name__ == "__main__":
    main()
