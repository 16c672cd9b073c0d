"""``jiliang telemetry``: the MQTT ingester, the broker's generated files, the offline check, the
history archive, and the detectors' evaluation on the seeded synthetic data set."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from jiliang.commands import common
from jiliang.services.telemetry import broker, credentials, history, ingest, ingester, provisioning
from jiliang.telemetry import evaluation, synthetic

app: typer.Typer = typer.Typer(help="远程监管 / remote supervision (telemetry)", no_args_is_help=True)


@app.command("ingest")
def run_ingester(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="MQTT broker")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="MQTT port")] = 1883,
    client_id: Annotated[
        str, typer.Option(help="稳定的客户端标识 / stable client id (keeps the session)")
    ] = ("jiliang-ingester-1"),
    group: Annotated[str, typer.Option(help="共享订阅组 / shared-subscription group")] = "jiliang",
    root: Annotated[str, typer.Option(help="主题根 / topic root")] = broker.ROOT,
    username: Annotated[str | None, typer.Option(envvar="JILIANG_MQTT_USERNAME")] = None,
    password: Annotated[str | None, typer.Option(envvar="JILIANG_MQTT_PASSWORD")] = None,
    batch_size: Annotated[int, typer.Option(help="每批最多消息数 / messages per batch")] = 500,
    tls: Annotated[bool, typer.Option(help="TLS 连接 / connect over TLS")] = False,
    tls_ca: Annotated[
        str | None, typer.Option(help="代理证书的 CA 文件（隐含 --tls）/ CA file for the broker's certificate")
    ] = None,
) -> None:
    """运行 MQTT 接入进程（SIGTERM/Ctrl-C 停止）/ run the MQTT ingester until SIGTERM or Ctrl-C."""
    platform = common.open_platform(common.state(ctx).settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    worker = ingester.MqttIngester(
        platform,
        host=host,
        port=port,
        client_id=client_id,
        group=group,
        root=root,
        username=username,
        password=password,
        batch_size=batch_size,
        tls=tls,
        tls_ca=tls_ca,
    )
    stats = worker.run(stop)
    common.console.print(
        f"messages {stats.messages} · batches {stats.batches} · accepted {stats.accepted} · "
        f"duplicates {stats.duplicates} · quarantined {stats.quarantined}"
    )


@app.command("broker-files")
def broker_files(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="输出目录 / directory for 'passwords' and 'acl'")],
    ingester_user: Annotated[str, typer.Option(help="接入进程的账户 / the ingester's broker account")] = (
        "jiliang-ingester"
    ),
    ingester_password: Annotated[
        str, typer.Option(envvar="JILIANG_MQTT_PASSWORD", prompt=True, hide_input=True)
    ] = "",
) -> None:
    """生成 Mosquitto 的密码与 ACL 文件 / write Mosquitto's password and ACL files from the registry."""
    platform = common.open_platform(common.state(ctx).settings)
    with common.errors():
        files = broker.render(
            platform,
            common.principal(platform, None),
            ingester_user=ingester_user,
            ingester_hash=credentials.hash_secret(ingester_password),
        )
    pw, acl = broker.write(files, out)
    common.console.print(
        f"{pw}\n{acl}\n(mosquitto.conf: password_file {pw} / acl_file {acl}; kill -HUP to reload)"
    )


@app.command("provision")
def provision(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="设备 CSV / the devices CSV (columns: docs/telemetry.md)")],
    credentials_out: Annotated[
        Path | None,
        typer.Option(
            help="一次性密钥 CSV 的输出路径 / where the credentials sheet goes (default FILE.credentials.csv)"
        ),
    ] = None,
    broker_dir: Annotated[
        Path | None,
        typer.Option(help="重新生成代理的密码与 ACL 文件 / regenerate Mosquitto's files in this directory"),
    ] = None,
    user: Annotated[str | None, typer.Option(help="以该账户身份（审计与辖区）/ act as this account")] = None,
) -> None:
    """批量登记远程监管设备（全部或全不）/ provision devices from a CSV, all or none; secrets go to a file."""
    settings = common.state(ctx).settings
    platform = common.open_platform(settings)
    out = credentials_out or file.with_name(file.name + ".credentials.csv")
    if out.exists():
        common.err.print(f"[red]{out} 已存在，不覆盖 / exists, not overwritten[/red]")
        raise typer.Exit(2)
    with common.errors():
        rows = provisioning.read_csv(file.read_bytes())
        result = provisioning.provision(
            platform,
            common.principal(platform, user),
            rows,
            first_row=2,
            broker_dir=broker_dir or settings.telemetry_broker_dir,
        )
    out.touch(mode=0o600)
    out.write_text(result["credentials_csv"], encoding="utf-8")
    common.console.print(f"provisioned {result['provisioned']} devices; credentials (shown once): {out}")
    if result["broker_files"]:
        files = result["broker_files"]
        common.console.print(
            f"{files['password_file']}\n{files['acl_file']}\n(kill -HUP mosquitto to reload)"
        )


@app.command("offline-check")
def offline_check(ctx: typer.Context) -> None:
    """标记长时间未上报的设备为离线 / raise 'offline' for silent scheduled devices (run from a timer)."""
    platform = common.open_platform(common.state(ctx).settings)
    common.console.print(f"offline raised: {ingest.check_offline(platform)}")


@app.command("archive")
def archive(ctx: typer.Context) -> None:
    """把近期窗口之外的读数移入 Parquet 历史并执行保留策略 / move readings past the recent window to the
    Parquet history and apply the retention policy (run from a timer; docs/telemetry.md "History")."""
    platform = common.open_platform(common.state(ctx).settings)
    r = history.archive(platform)
    common.console.print(
        f"archived {r.archived}, already in Parquet {r.already}, deleted from the database {r.deleted}, "
        f"partitions {len(r.partitions)}, dropped {len(r.dropped)} → {history.history_dir(platform.settings)}"
    )


@app.command("evaluate")
def evaluate(
    seed: Annotated[int, typer.Option(help="随机种子 / seed")] = 2026,
    devices: Annotated[int, typer.Option(help="每类设备数 / devices per type")] = 40,
    readings: Annotated[int, typer.Option(help="每台读数 / readings per device")] = 400,
) -> None:
    """在合成标注数据上评估检测器 / score the detectors on the seeded labelled data set (docs/telemetry.md)."""
    data = synthetic.generate(seed=seed, devices_per_type=devices, readings_per_device=readings)
    sys.stdout.write(evaluation.table(evaluation.evaluate(data)) + "\n")
