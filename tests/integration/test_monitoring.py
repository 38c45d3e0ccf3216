"""Seeing at a glance that crm-cli is alive: its runs recorded, ``check``'s verdict and
exit code, the metrics an exporter reads, ``stats --json``'s versioned object."""

from __future__ import annotations

import json

import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from crm_cli.demo import sample_erp
from tests.integration.support import php_enqueue


def runs(database) -> list[dict]:
    with database.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(sa.text("SELECT * FROM crm_cli_runs ORDER BY id"))
        ]


def age_runs(database, minutes: int) -> None:
    """The runs happened ``minutes`` ago (cron stopped since)."""
    with database.begin() as conn:
        if conn.dialect.name == "sqlite":
            shift = f"datetime(%s, '-{minutes} minutes')"
            conn.execute(
                sa.text(
                    "UPDATE crm_cli_runs SET started_at = "
                    + shift % "started_at"
                    + ", finished_at = "
                    + shift % "finished_at"
                )
            )
        else:
            conn.execute(
                sa.text(
                    f"UPDATE crm_cli_runs SET "
                    f"started_at = started_at - INTERVAL {minutes} MINUTE, "
                    f"finished_at = finished_at - INTERVAL {minutes} MINUTE"
                )
            )


def test_every_job_run_is_recorded_with_its_result(cli, shop, gc_emulator):
    [cid] = sample_erp.add_clientes(shop, 1)
    php_enqueue(shop, [cid])

    assert cli("sync").exit_code == 0
    failed = cli("pull", "--loja", "77")
    cli("cleanup")

    recorded = {r["kind"]: r for r in runs(shop)}
    assert failed.exit_code != 0
    sync = recorded["sync"]
    assert (sync["result"], sync["processed"], sync["errors"]) == ("ok", 1, 0)
    assert sync["finished_at"] is not None and sync["pid"] > 0 and sync["host"]
    assert recorded["pull"]["result"] == "failed"
    assert "store 77" in recorded["pull"]["error"]
    assert recorded["cleanup"]["result"] == "ok"


def test_stats_json_is_versioned_and_shows_the_last_runs(cli, shop, gc_emulator):
    cli("sync")

    data = json.loads(cli("stats", "--json").stdout)

    assert data["schema_version"] == 2
    assert data["last_runs"]["sync"]["result"] == "ok"
    assert data["last_runs"]["sync"]["seconds_ago"] < 60
    assert "sync" in cli("stats").stdout


def test_check_is_ok_then_critical_once_cron_stops(cli, shop, gc_emulator):
    cli("sync")

    healthy = cli("check")
    age_runs(shop, minutes=6)
    stopped = cli("check", "--max-age", "sync=300")

    assert healthy.exit_code == 0, healthy.stdout
    assert healthy.stdout.startswith("CRM-CLI OK - last sync")
    assert " | sync_age=" in healthy.stdout
    assert stopped.exit_code == 2
    assert stopped.stdout.startswith("CRM-CLI CRITICAL - last sync run 3")


def test_check_warns_of_failed_items_and_never_ran_jobs(cli, shop, gc_emulator):
    cli("sync")
    with shop.begin() as conn:  # an item an operator must look at
        conn.execute(
            sa.text(
                "INSERT INTO crm_sync_queue (id_loja, entidade, id_registro, direcao, status, "
                "processado, erro) VALUES (1, 'cliente', 9, 'ecletech_para_crm', 'failed', 1, 'x')"
            )
        )

    warned = cli("check")
    never = cli("check", "--max-age", "pull=600")

    assert warned.exit_code == 1 and "1 item(s) failed" in warned.stdout
    assert never.exit_code == 2 and "no pull run recorded" in never.stdout


def test_check_is_unknown_when_it_cannot_tell(cli, shop, tmp_path):
    bad_threshold = cli("check", "--max-age", "sync=soon")
    no_database = cli("check", env={"CRM_DATABASE_URL": "mysql+pymysql://root@127.0.0.1:1/nothing"})

    assert bad_threshold.exit_code == 3
    assert bad_threshold.stdout.startswith("CRM-CLI UNKNOWN - --max-age takes JOB=SECONDS")
    assert no_database.exit_code == 3 and no_database.stdout.startswith("CRM-CLI UNKNOWN - ")


def test_the_textfile_parses_as_prometheus_metrics(cli, shop, gc_emulator, tmp_path):
    [cid] = sample_erp.add_clientes(shop, 1)
    php_enqueue(shop, [cid])
    cli("sync")
    collector = tmp_path / "textfile"
    collector.mkdir()
    target = collector / "crm_cli.prom"

    result = cli("stats", "--textfile", str(target))

    assert result.exit_code == 0, result.stderr
    assert [p.name for p in collector.iterdir()] == ["crm_cli.prom"]  # no temporary left
    families = {f.name: f for f in text_string_to_metric_families(target.read_text())}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families.values()
        for s in family.samples
    }
    assert samples[("crm_cli_queue_items", (("status", "pending"),))] == 0
    assert samples[("crm_cli_last_run_success", (("job", "sync"),))] == 1
    assert samples[("crm_cli_last_run_processed", (("job", "sync"),))] == 1
    assert families["crm_cli_queue_oldest_pending_seconds"].type == "gauge"
    printed = cli("stats", "--prometheus").stdout
    assert {f.name for f in text_string_to_metric_families(printed)} == set(families)


def test_stats_output_choices_are_exclusive(cli, shop, tmp_path):
    both = cli("stats", "--json", "--prometheus")
    nowhere = cli("stats", "--textfile", str(tmp_path / "missing" / "x.prom"))

    assert both.exit_code == 2 and "choose one of" in both.stderr
    assert nowhere.exit_code == 2 and "cannot write it" in nowhere.stderr


def test_cleanup_keeps_the_last_run_of_each_job(cli, shop, gc_emulator):
    cli("sync")
    cli("sync")
    cli("pull")
    age_runs(shop, minutes=60 * 24 * 40)  # 40 days ago

    cli("cleanup")

    kinds = [r["kind"] for r in runs(shop)]
    assert kinds.count("sync") == 1 and kinds.count("pull") == 1  # the last of each
    assert kinds.count("cleanup") == 1  # this one
