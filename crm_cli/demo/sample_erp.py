"""The ERP's own tables (spec §2), as a shop's database has them, with sample rows.

Used by ``crm-cli demo``, the benchmarks and the tests; crm-cli itself never
creates these tables in a real shop (they belong to the ERP).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

metadata = sa.MetaData()
BIGINT = sa.BigInteger().with_variant(sa.Integer, "sqlite")  # SQLite autoincrements INTEGER only

clientes = sa.Table(
    "clientes",
    metadata,
    sa.Column("id", BIGINT, primary_key=True, autoincrement=True),
    sa.Column("external_id", sa.String(50), unique=True),
    # the real ERP's ENUM: PF, PJ and ES (estrangeiro, a foreign client)
    sa.Column("tipo_pessoa", sa.Enum("PF", "PJ", "ES", native_enum=True, create_constraint=False)),
    sa.Column("nome", sa.String(150)),
    sa.Column("razao_social", sa.String(150)),
    sa.Column("cnpj", sa.String(20), unique=True),
    sa.Column("cpf", sa.String(20), unique=True),
    sa.Column("inscricao_estadual", sa.String(30)),
    sa.Column("inscricao_municipal", sa.String(30)),
    sa.Column("rg", sa.String(30)),
    sa.Column("data_nascimento", sa.Date),
    sa.Column("telefone", sa.String(20)),
    sa.Column("celular", sa.String(20)),
    sa.Column("email", sa.String(150)),
    sa.Column("ativo", sa.Boolean, server_default=sa.text("1")),
    sa.Column("cadastrado_em", sa.DateTime, server_default=sa.func.current_timestamp()),
    sa.Column("modificado_em", sa.DateTime),
    sa.Column("deletado_em", sa.DateTime),
)

produtos = sa.Table(
    "produtos",
    metadata,
    sa.Column("id", BIGINT, primary_key=True, autoincrement=True),
    sa.Column("external_id", sa.String(50), unique=True),
    sa.Column("nome", sa.String(150)),
    sa.Column("codigo_interno", sa.String(50), unique=True),
    sa.Column("codigo_barra", sa.String(50)),
    sa.Column("descricao", sa.Text),
    sa.Column("estoque", sa.Numeric(15, 3)),
    sa.Column("valor_custo", sa.Numeric(15, 2)),
    sa.Column("valor_venda", sa.Numeric(15, 2)),
    sa.Column("ncm", sa.String(10)),
    sa.Column("peso_liquido", sa.Numeric(15, 3)),
    sa.Column("peso_bruto", sa.Numeric(15, 3)),
    sa.Column("largura", sa.Numeric(15, 3)),
    sa.Column("altura", sa.Numeric(15, 3)),
    sa.Column("comprimento", sa.Numeric(15, 3)),
    sa.Column("ativo", sa.Boolean, server_default=sa.text("1")),
    sa.Column("created_at", sa.DateTime),
    sa.Column("updated_at", sa.DateTime),
    sa.Column("deleted_at", sa.DateTime),
)

vendas = sa.Table(
    "vendas",
    metadata,
    sa.Column("id", BIGINT, primary_key=True, autoincrement=True),
    sa.Column("external_id", sa.String(50), unique=True),
    sa.Column("codigo", sa.String(30), unique=True),
    sa.Column("cliente_id", sa.BigInteger),
    sa.Column("cliente_external_id", sa.String(50)),
    sa.Column("vendedor_id", sa.BigInteger),
    sa.Column("vendedor_external_id", sa.String(50)),
    sa.Column("situacao_venda_id", sa.Integer),
    sa.Column("nome_situacao", sa.String(50)),
    sa.Column("loja_id", sa.Integer),
    sa.Column("data_venda", sa.Date),
    sa.Column("valor_produtos", sa.Numeric(15, 2)),
    sa.Column("valor_frete", sa.Numeric(15, 2)),
    sa.Column("desconto_valor", sa.Numeric(15, 2)),
    sa.Column("valor_total", sa.Numeric(15, 2)),
    sa.Column("observacoes", sa.Text),
    sa.Column("ativo", sa.Boolean, server_default=sa.text("1")),
    sa.Column("cadastrado_em", sa.DateTime),
    sa.Column("modificado_em", sa.DateTime),
    sa.Column("deletado_em", sa.DateTime),
)

vendas_itens = sa.Table(
    "vendas_itens",
    metadata,
    sa.Column("id", BIGINT, primary_key=True, autoincrement=True),
    sa.Column("venda_id", BIGINT, sa.ForeignKey("vendas.id"), nullable=False),
    sa.Column("produto_id", BIGINT),
    sa.Column("produto_external_id", sa.String(50)),
    sa.Column("nome_produto", sa.String(150)),
    sa.Column("quantidade", sa.Numeric(15, 3)),
    sa.Column("valor_venda", sa.Numeric(15, 2)),
    sa.Column("desconto_valor", sa.Numeric(15, 2)),
    sa.Column("valor_total", sa.Numeric(15, 2)),
    sa.Column("cadastrado_em", sa.DateTime),
    sa.Column("modificado_em", sa.DateTime),
)

atividades = sa.Table(
    "atividades",
    metadata,
    sa.Column("id", BIGINT, primary_key=True, autoincrement=True),
    sa.Column("external_id", sa.String(50), unique=True),
    sa.Column("titulo", sa.String(150)),
    sa.Column("tipo", sa.String(30)),
    sa.Column("data_vencimento", sa.Date),
    sa.Column("hora_vencimento", sa.String(8)),
    sa.Column("descricao", sa.Text),
    sa.Column("concluida", sa.Boolean, server_default=sa.text("0")),
    sa.Column("cliente_external_id", sa.String(50)),
    sa.Column("venda_external_id", sa.String(50)),
    sa.Column("atualizado_em", sa.DateTime),
    sa.Column("deletado_em", sa.DateTime),
)


def create(database: sa.Engine) -> None:
    metadata.create_all(database)


def add_clientes(
    database: sa.Engine, count: int, with_document: bool = True, start: int = 1
) -> list[int]:
    rows = [
        {
            "tipo_pessoa": "PF",
            "nome": f"Cliente {n}",
            "cpf": f"{n:011d}" if with_document else None,
            "email": f"c{n}@example.com",
        }
        for n in range(start, start + count)
    ]
    with database.begin() as conn:
        conn.execute(sa.insert(clientes), rows)
        return list(
            conn.execute(
                sa.select(clientes.c.id).order_by(clientes.c.id.desc()).limit(count)
            ).scalars()
        )[::-1]


def add_produtos(database: sa.Engine, count: int, start: int = 1) -> list[int]:
    rows = [
        {
            "nome": f"Produto {n}",
            "codigo_interno": f"PRD-{n:05d}",
            "valor_custo": 10 + n % 50,
            "valor_venda": 19.9 + n % 50,
            "estoque": n % 100,
            "ncm": "96081000",
        }
        for n in range(start, start + count)
    ]
    with database.begin() as conn:
        conn.execute(sa.insert(produtos), rows)
        return list(
            conn.execute(
                sa.select(produtos.c.id).order_by(produtos.c.id.desc()).limit(count)
            ).scalars()
        )[::-1]


def add_venda(
    database: sa.Engine,
    codigo: str,
    items: list[tuple[int, float, float]],
    frete: float = 0.0,
    **values: object,
) -> int:
    """A sale with its line items, each (produto_id, quantidade, valor_venda); the totals
    add up as the ERP writes them."""
    lines = [
        {"produto_id": p, "quantidade": q, "valor_venda": v, "valor_total": round(q * v, 2)}
        for p, q, v in items
    ]
    produtos_total = round(sum(line["valor_total"] for line in lines), 2)
    sale = {
        "codigo": codigo,
        "data_venda": dt.date(2026, 11, 30),
        "valor_produtos": produtos_total,
        "valor_frete": frete,
        "valor_total": round(produtos_total + frete, 2),
        **values,
    }
    with database.begin() as conn:
        venda_id = conn.execute(sa.insert(vendas).values(sale)).inserted_primary_key[0]
        with_names = [{**line, "venda_id": venda_id} for line in lines]
        if with_names:
            conn.execute(sa.insert(vendas_itens), with_names)
    return int(venda_id)
