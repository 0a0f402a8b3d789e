"""Task groups the DAGs reuse."""

from airflow.operators.bash import BashOperator
from airflow.utils.task_group import TaskGroup


class TableLoad(TaskGroup):
    """Extract, load and check one table."""

    def __init__(self, table, checks=("rows", "nulls"), **kwargs):
        super().__init__(group_id=f"load_{table}", tooltip=f"Loads {table}", **kwargs)
        self.table = table
        with self:
            extract = BashOperator(task_id="extract", bash_command=f"extract.sh {table}")
            load = BashOperator(task_id="load", bash_command=f"load.sh {table}")
            extract >> load
            for check in checks:
                load >> BashOperator(task_id=f"check_{check}", bash_command=f"check.sh {check}")
