from airflow.sdk import DAG
# café (latin-1, not UTF-8)
