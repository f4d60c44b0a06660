"""A Python payload: reports one materialization and a check through dagster-pipes."""

from dagster_pipes import open_dagster_pipes

with open_dagster_pipes() as pipes:
    pipes.log.info(f"hello from Python, partition {pipes.partition_key if pipes.is_partition_step else None}")
    pipes.report_asset_materialization(metadata={"rows": 42, "source": {"type": "url", "raw_value": "https://example.org"}})
