"""The Azurite fixture itself: both services answer, on loopback only, with the dev account."""

from __future__ import annotations

import httpx
import psutil
from azure.data.tables import TableServiceClient

from tests.fakes.azurite import Azurite, azurite  # noqa: F401


def test_table_service_round_trips_an_entity(azurite: Azurite) -> None:  # noqa: F811
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    table = service.create_table(azurite.unique_name())
    table.upsert_entity({"PartitionKey": "p", "RowKey": "r", "text": "hello"})
    assert table.get_entity("p", "r")["text"] == "hello"


def test_blob_service_answers_with_azure_headers(azurite: Azurite) -> None:  # noqa: F811
    response = httpx.get(f"{azurite.blob_url}?comp=list")
    # Unsigned: refused, but by the Blob service (its request id header), not by anything else.
    assert response.status_code in {401, 403}
    assert "x-ms-request-id" in response.headers


def test_listens_on_loopback_only(azurite: Azurite) -> None:  # noqa: F811
    addresses = {
        sock.laddr.ip
        for process in azurite.processes
        for sock in psutil.Process(process.pid).net_connections(kind="inet")
        if sock.status == psutil.CONN_LISTEN
    }
    assert addresses == {"127.0.0.1"}


def test_unique_names_differ_and_are_valid_table_names() -> None:
    names = {Azurite.unique_name("conv") for _ in range(100)}
    assert len(names) == 100
    assert all(name.isalnum() and name[0].isalpha() and len(name) <= 63 for name in names)
