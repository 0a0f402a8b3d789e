from airflow.sdk import DAG

with DAG(dag_id="audit_syntax_error" schedule=None):
    pass
