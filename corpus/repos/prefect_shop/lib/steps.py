"""Plain helpers the flows call: they run inside the flow, so the tasks they
call are the flow's."""

from tasks.transform import load_table

TABLES = ["facts", "dims"]


def load_all(rows):
    return [load_table(table, rows) for table in TABLES]
