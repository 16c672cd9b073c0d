"""The administrator's catalogue pages: upload a version (refused whole with its rows), its differences
from the version in force row by row, activation from a date; administrators only."""

from __future__ import annotations

import re

from tests.console_support import Console, form_token


def _shipped_csv(console: Console) -> str:
    client = console.client_for("admin")
    return client.get("/console/admin/catalogue/SAMR-2020-42/export.csv").content.decode("utf-8-sig")


def test_an_administrator_uploads_compares_and_activates(console: Console) -> None:
    client = console.client_for("admin")
    page = client.get("/console/admin/catalogue")
    assert page.status_code == 200 and "SAMR-2020-42" in page.text and "现行" in page.text
    assert "built-in method" not in page.text and '<th scope="col">目录项</th>' in page.text
    lines = _shipped_csv(console).splitlines()
    fuel = next(i for i, line in enumerate(lines) if ",09.01," in line)
    lines[fuel] = lines[fuel].replace(",periodic,6,", ",periodic,12,")
    token = form_token(client, "/console/admin/catalogue")
    r = client.post(
        "/console/admin/catalogue",
        data={"csrf_token": token, "version": "SAMR-2026-T"},
        files={"file": ("new.csv", ("\n".join(lines) + "\n").encode(), "text/csv")},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "已上传，未启用" in r.text
    assert re.search(
        r'<td data-label="字段">检定周期（月）</td>\s*<td data-label="原">6</td>\s*<td data-label="新">12</td>',
        r.text,
    )
    assert "09.01 燃油加油机" in r.text
    past = client.post(
        "/console/admin/catalogue/SAMR-2026-T/activate",
        data={"csrf_token": token, "active_from": "2026-01-01"},
    )
    assert past.status_code == 422 and 'aria-invalid="true"' in past.text
    ok = client.post(
        "/console/admin/catalogue/SAMR-2026-T/activate",
        data={"csrf_token": token, "active_from": "2026-08-01"},
        follow_redirects=True,
    )
    assert ok.status_code == 200 and "待生效" in ok.text and "2026-08-01" in ok.text
    assert "尚未（启用当日" in ok.text  # the compulsory flags follow it on its day, not before
    client.post("/console/admin/catalogue/SAMR-2026-T/unschedule", data={"csrf_token": token})
    today = client.post(
        "/console/admin/catalogue/SAMR-2026-T/activate",
        data={"csrf_token": token, "active_from": "2026-06-15"},
        follow_redirects=True,
    )
    assert today.status_code == 200 and "台纳入强检" in today.text, today.text[-3000:]


def test_a_bad_catalogue_file_is_refused_with_its_rows(console: Console) -> None:
    client = console.client_for("admin")
    token = form_token(client, "/console/admin/catalogue")
    body = "一级序号,一级目录,目录项代码,二级目录,监管方式,实施日期,检定形式\n1,甲,01.01,甲一,V,2026-01-01,\n"
    r = client.post(
        "/console/admin/catalogue",
        data={"csrf_token": token, "version": "BAD"},
        files={"file": ("bad.csv", body.encode(), "text/csv")},
    )
    assert r.status_code == 422 and 'id="problems"' in r.text and "检定形式" in r.text
    assert (
        "BAD"
        not in client.get("/console/admin/catalogue").text.split('id="versions"')[1].split("</table>")[0]
    )


def test_only_administrators_reach_the_catalogue_pages(console: Console) -> None:
    for who in ("city", "enterprise", "institution"):
        assert console.client_for(who).get("/console/admin/catalogue").status_code == 403
    client = console.client_for("admin")
    assert client.get("/console/admin/catalogue/NO-SUCH").status_code == 404
