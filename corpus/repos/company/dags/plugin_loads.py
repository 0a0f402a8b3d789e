"""Loads with the repository's own operators (plugins/warehouse_ops.py)."""

from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from warehouse_ops import FullRefresh, PartitionReady, QuietBash, WarehouseLoad

with DAG("plugin_loads", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False):
    ready = PartitionReady(task_id="orders_ready", table="orders", poke_interval=300)
    orders = WarehouseLoad(table="orders")
    customers = FullRefresh(table="customers")
    notify = QuietBash(task_id="notify", bash_command="notify.sh")
    done = EmptyOperator(task_id="done")
    ready >> [orders, customers] >> notify >> done
