"""The GestãoClick provider against its loopback emulator: CRUD, pages, error kinds."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm_cli.demo import sample_erp
from crm_cli.engine.failures import Verdict, decide
from crm_cli.errors import (
    AuthError,
    EntityNotSupported,
    ProviderTimeout,
    ProviderUnreachable,
    RateLimited,
    RecordNotFound,
    RetryableProviderError,
    UnexpectedAnswer,
    ValidationFailed,
)
from crm_cli.services.service_crm import ServiceCrm
from crm_cli.settings import load_settings
from tests.integration.support import configure_emulated_store, php_enqueue, queue_rows

CLIENTE = {
    "tipo_pessoa": "PF",
    "nome": "Maria da Silva",
    "cpf": "12345678901",
    "telefone": "1133334444",
    "celular": "11987654321",
    "email": "maria@example.com",
    "data_nascimento": "1990-05-17",
    "ativo": 1,
}


@pytest.fixture
def service(gc_store, migrated):
    return ServiceCrm(migrated, load_settings())


def logs(database) -> list:
    with database.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT entidade, direcao, status, mensagem, dados_enviados "
                "FROM crm_sync_log ORDER BY id"
            )
        ).all()


def test_create_read_update_delete_through_the_python_api(service, gc_emulator, migrated):
    created = service.criar(1, "cliente", CLIENTE, id_registro=10)

    stored = gc_emulator.records["clientes"][created.external_id]
    assert stored["cpf"] == "123.456.789-01"
    assert stored["celular"] == "(11) 98765-4321"
    assert stored["telefone"] == "(11) 3333-4444"
    assert created.interno["cpf"] == "12345678901"

    found = service.buscar(1, "cliente", created.external_id)
    assert found.dados["nome"] == "Maria da Silva"

    updated = service.atualizar(1, "cliente", created.external_id, {**CLIENTE, "nome": "Maria S."})
    assert updated.dados["nome"] == "Maria S."
    assert gc_emulator.records["clientes"][created.external_id]["nome"] == "Maria S."

    service.deletar(1, "cliente", created.external_id)
    assert created.external_id not in gc_emulator.records["clientes"]
    with pytest.raises(RecordNotFound):
        service.buscar(1, "cliente", created.external_id)

    entries = logs(migrated)
    assert [(e.direcao, e.status) for e in entries] == [
        ("ecletech_para_crm", "sucesso"),
        ("crm_para_ecletech", "sucesso"),
        ("ecletech_para_crm", "sucesso"),
        ("ecletech_para_crm", "sucesso"),
        ("crm_para_ecletech", "erro"),
    ]
    assert entries[0].mensagem == "criar cliente"


def test_listing_walks_every_page(service, gc_emulator):
    for n in range(45):
        gc_emulator.seed("clientes", {"tipo_pessoa": "PF", "nome": f"Cliente {n}"})
    client = service.client(1)

    names = [r["nome"] for r in client.iterar("cliente")]

    assert len(names) == 45  # 3 pages of the default 20
    assert names[0] == "Cliente 0" and names[-1] == "Cliente 44"
    assert gc_emulator.stats()["requests"] == 3
    page, following = service.listar(1, "cliente")
    assert (len(page), following) == (20, 2)


def test_natural_key_lookup_finds_the_record(service, gc_emulator):
    gc_emulator.seed("clientes", {"tipo_pessoa": "PF", "nome": "Outro", "cpf": "999.999.999-99"})
    mine = gc_emulator.seed(
        "clientes", {"tipo_pessoa": "PF", "nome": "Eu", "cpf": "123.456.789-01"}
    )
    client = service.client(1)

    assert client.procurar("cliente", CLIENTE)["id"] == mine["id"]
    assert client.procurar("cliente", {**CLIENTE, "cpf": "11111111111"}) is None
    product = gc_emulator.seed(
        "produtos", {"nome": "Caneta", "codigo_interno": "CAN-1", "valor_custo": "1.00"}
    )
    assert client.procurar("produto", {"codigo_interno": "CAN-1"})["id"] == product["id"]


def test_unsupported_entity_is_a_clear_error(service):
    with pytest.raises(EntityNotSupported) as caught:
        service.criar(1, "atividade", {"assunto": "x"})
    assert "entity 'atividade' is not supported by provider gestao_click" in str(caught.value)
    assert decide(caught.value).verdict is Verdict.FAIL


@pytest.mark.sends_refused_requests
def test_validation_404_is_told_apart_from_a_missing_record(service, gc_emulator):
    client = service.client(1)

    with pytest.raises(ValidationFailed, match="O campo nome é obrigatório"):
        client.criar("cliente", {"tipo_pessoa": "PF", "nome": ""})
    with pytest.raises(RecordNotFound):
        client.buscar("cliente", "999")
    with pytest.raises(RecordNotFound):
        client.atualizar("cliente", "999", {"tipo_pessoa": "PF", "nome": "x"})
    existing = gc_emulator.seed("clientes", {"tipo_pessoa": "PF", "nome": "A"})
    with pytest.raises(ValidationFailed):
        client.atualizar("cliente", existing["id"], {"tipo_pessoa": "XX", "nome": "A"})


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("500", RetryableProviderError),
        ("bad_json", UnexpectedAnswer),
        ("timeout", ProviderTimeout),
    ],
)
def test_faults_map_to_error_kinds(service, gc_emulator, fault, error):
    gc_emulator.add_fault(fault)

    with pytest.raises(error) as caught:
        service.client(1).listar("cliente")

    assert decide(caught.value).verdict is Verdict.RETRY
    if fault == "500":
        assert caught.value.cause == "server error (500)"


def test_wrong_credentials_are_an_auth_error(cli, migrated, gc_emulator):
    from tests.integration.support import configure_store

    configure_store(
        cli,
        2,
        "gestao_click",
        {"access_token": "nope-nope", "secret_access_token": "x"},
        api_base_url=gc_emulator.url,
        rate_limit_per_second=0,
    )
    with pytest.raises(AuthError):
        ServiceCrm(migrated, load_settings()).client(2).listar("cliente")


def test_connection_refused(cli, migrated):
    from tests.integration.support import configure_store

    configure_store(
        cli,
        2,
        "gestao_click",
        {"access_token": "a" * 10, "secret_access_token": "b"},
        api_base_url="http://127.0.0.1:1",
        rate_limit_per_second=0,
    )
    with pytest.raises(ProviderUnreachable) as caught:
        ServiceCrm(migrated, load_settings()).client(2).listar("cliente")
    assert caught.value.cause == "connection refused"


def test_429_with_retry_after_pauses_the_account(service, gc_emulator, migrated):
    gc_emulator.add_fault("429", retry_after=7)

    with pytest.raises(RateLimited) as caught:
        service.client(1).listar("cliente")

    assert 6.0 <= caught.value.retry_after <= 7.0
    with migrated.connect() as conn:
        row = conn.execute(
            sa.text(  # the account's row (its endpoint's holds the circuit breaker)
                "SELECT paused_until_ms, next_slot_ms FROM crm_rate_limits "
                "WHERE quota_key NOT LIKE '%@%'"
            )
        ).one()
    assert row.paused_until_ms > 0
    # the pause holds for every process of the account: a request that may not
    # wait that long is refused without being sent
    client = service.client(1)
    service.clients.max_wait = 1.0
    before = gc_emulator.stats()["requests"]
    with pytest.raises(RateLimited):
        client.listar("cliente")
    assert gc_emulator.stats()["requests"] == before


def test_429_without_retry_after_pauses_briefly_then_longer(service, gc_emulator):
    client = service.client(1)
    pacer = client.pacer
    gc_emulator.add_fault("429")

    with pytest.raises(RateLimited) as first:
        client.listar("cliente")
    second = pacer.pause(None)  # another 429 right after: the pause grows

    assert 0.5 < first.value.retry_after <= 1.0
    assert second > first.value.retry_after


def test_a_404_about_something_else_is_not_the_record_deleted(cli, shop, gc_emulator):
    """ "Tipo de valor não encontrado" on a product's PUT names the price type, not the
    product: the item fails with GestãoClick's words and no 'deleted' advice, and the
    product (and its link) stay."""
    configure_emulated_store(cli, 1, gc_emulator, price_type_id="999")
    [pid] = sample_erp.add_produtos(shop, 1)
    php_enqueue(shop, [pid], entidade="produto")
    cli("sync")  # created (a POST takes the price as it is)
    with shop.begin() as conn:
        conn.execute(sa.text("UPDATE produtos SET nome = 'Outro nome'"))
    php_enqueue(shop, [pid], entidade="produto")

    cli("sync")

    [_first, (status, erro)] = queue_rows(shop, "status", "erro")
    assert status == "failed"
    assert "Tipo de valor não encontrado" in erro
    assert "the record is there" in erro
    assert "deleted" not in erro
    assert len(gc_emulator.records["produtos"]) == 1


def test_a_record_deleted_in_the_crm_is_said_so_and_not_created_again(cli, shop, gc_emulator):
    [cid] = sample_erp.add_clientes(shop, 1)
    php_enqueue(shop, [cid])
    cli("sync")
    gc_emulator.records["clientes"].clear()  # deleted in GestãoClick
    with shop.begin() as conn:
        conn.execute(sa.text("UPDATE clientes SET nome = 'Outro nome'"))
    php_enqueue(shop, [cid])

    cli("sync")

    [_first, (status, erro)] = queue_rows(shop, "status", "erro")
    assert status == "failed"
    assert erro.startswith("the CRM has no cliente 1 any more (deleted there")
    assert gc_emulator.stats()["creates"] == {"clientes": 1}  # no second record
