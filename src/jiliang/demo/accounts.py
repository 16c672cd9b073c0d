"""The demo's accounts as people read them: one account per block of short lines, and a private file.

A table of five columns was cut off in an 80-column terminal, passwords included (issue 10). These lines
are short and printed without wrapping or truncation, so they read at any width; the same text is
written to a file beside the database, readable by its owner only (mode 0600), for when the terminal's
scrollback is gone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from jiliang.demo.build import DemoAccount

ROLE_NAMES = {
    "administrator": "系统管理员 / administrator",
    "supervisor": "计量监管人员 / supervisor",
    "institution": "检定机构 / verification institution",
    "enterprise": "使用单位 / enterprise",
    "public": "社会公众 / public",
}


def account_lines(
    accounts: Iterable[DemoAccount], url: str = "", region_names: Mapping[str, str] | None = None
) -> list[str]:
    """Each account as a block: the user name, then its password, role, jurisdiction and organisation."""
    names = region_names or {}
    lines = ["演示账户 / demo accounts (合成数据 / synthetic data)"]
    if url:
        lines.append(f"登录 / sign in: {url}")
    for a in accounts:
        lines += [
            "",
            f"  用户名 / username: {a.username}",
            f"  密码 / password:   {a.password}",
            f"  角色 / role:       {ROLE_NAMES.get(a.role, a.role)}",
            f"  管辖 / region:     {' '.join(filter(None, (names.get(a.jurisdiction), a.jurisdiction)))}",
        ]
        if a.organisation:
            lines.append(f"  单位 / organisation: {a.organisation}")
    return lines


def accounts_file(database_url: str, data_dir: Path) -> Path:
    """Beside the SQLite file (``demo.db`` → ``demo.accounts.txt``), else in the data directory."""
    if database_url.startswith("sqlite:///"):
        db = Path(database_url.removeprefix("sqlite:///"))
        return db.with_name(db.stem + ".accounts.txt")
    return data_dir / "demo.accounts.txt"


def write_accounts(path: Path, lines: list[str]) -> Path:
    """Write the lines to ``path`` readable and writable by its owner only (0600), replacing any old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)  # an existing file keeps its old mode through os.open
    return path
