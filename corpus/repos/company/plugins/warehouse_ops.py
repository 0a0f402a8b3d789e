"""Operators of this repository (the plugins folder is on Airflow's sys.path)."""

from airflow.models.baseoperator import BaseOperator
from airflow.operators.bash import BashOperator
from airflow.sensors.base import BaseSensorOperator


class WarehouseLoad(BaseOperator):
    """Loads one table; its task id is made from the table name."""

    template_fields = ("table",)

    def __init__(self, table, mode="append", **kwargs):
        super().__init__(task_id=f"load_{table}", **kwargs)
        self.table = table
        self.mode = mode

    def execute(self, context):
        self.log.info("loading %s (%s)", self.table, self.mode)


class FullRefresh(WarehouseLoad):
    """A load that replaces the table."""

    def __init__(self, table, **kwargs):
        super().__init__(table=table, mode="replace", **kwargs)


class PartitionReady(BaseSensorOperator):
    def __init__(self, table, **kwargs):
        super().__init__(**kwargs)
        self.table = table

    def poke(self, context):
        return True


class QuietBash(BashOperator):
    """A BashOperator with the team's defaults and no behaviour of its own."""

    def __init__(self, **kwargs):
        kwargs.setdefault("retries", 4)
        super().__init__(**kwargs)
