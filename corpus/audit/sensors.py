import pendulum
from airflow.providers.standard.sensors.filesystem import FileSensor
from airflow.sdk import DAG

with DAG(dag_id="audit_sensors", schedule=None, start_date=pendulum.datetime(2025, 1, 1)):
    forever = FileSensor(task_id="forever", filepath="/data/in.csv")
    long_poke = FileSensor(task_id="long_poke", filepath="/data/in.csv", timeout=6 * 3600)
    polite = FileSensor(task_id="polite", filepath="/data/in.csv", timeout=6 * 3600, mode="reschedule")
    forever >> long_poke >> polite
