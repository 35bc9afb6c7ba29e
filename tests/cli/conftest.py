"""Input files of the command-line tests, made from crmcore.datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmcore import datasets
from helpers_cli import STAGES


@pytest.fixture(scope="session")
def orders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "orders.csv"
    tx = datasets.transactions(40, n_transactions=300, seed=4)
    tx.rename(columns={"customer_id": "client", "date": "day", "amount": "total"}).to_csv(
        path, index=False
    )
    return path


@pytest.fixture(scope="session")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from crmcore.kpi import kpi_table

    folder = tmp_path_factory.mktemp("cli_files")
    paths = {
        name: folder / f"{name}.csv"
        for name in ("tx", "customers", "opps", "history", "deals", "targets", "team", "kpis")
    }
    datasets.transactions(40, n_transactions=300, seed=4).to_csv(paths["tx"], index=False)
    # Five more customers than buyers: 41..45 have potential but no purchase.
    datasets.customers(45, seed=4).to_csv(paths["customers"], index=False)
    opps = datasets.opportunities(60, seed=1, stages=STAGES.split(","))
    opps.to_csv(paths["opps"], index=False)
    datasets.stage_history(200, seed=1).to_csv(paths["history"], index=False)
    deals = datasets.deals(80, n_people=4, seed=1)
    deals.to_csv(paths["deals"], index=False)
    targets = datasets.targets(4, n_deals=80, seed=1)
    targets.to_csv(paths["targets"], index=False)
    team = datasets.team(5, seed=1).assign(weight=[1.0, 2.0, 3.0, 4.0, 5.0])
    team.to_csv(paths["team"], index=False)
    kpi_table(deals, targets).reset_index().to_csv(paths["kpis"], index=False)
    return paths
