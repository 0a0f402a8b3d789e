"""Tasks whose whole body is a checked subprocess call become shell
actions; anything else (no check, computed command, more code) stays python.
The flow is scheduled with an RRule that has an exact cron spelling."""

import subprocess

import prefect

DBT = ["dbt", "run", "--select", "staging"]


@prefect.task(retries=2, retry_delay_seconds=60)
def dbt_run():
    subprocess.run(DBT, check=True)


@prefect.task
def vacuum():
    """Reclaim space."""
    subprocess.check_call("psql -c 'VACUUM ANALYZE'", shell=True, env={"PGHOST": "db"})


@prefect.task
def unchecked():
    subprocess.run("rm -rf /tmp/scratch", shell=True)


@prefect.task
def computed(name: str):
    subprocess.run(f"echo {name}", shell=True, check=True)


@prefect.flow(name="warehouse-maintenance")
def maintenance():
    dbt_run()
    vacuum()
    unchecked()
    computed("done")


if __name__ == "__main__":
    maintenance.serve(
        name="weekly",
        rrule="DTSTART:20240105T220000\nRRULE:FREQ=WEEKLY;BYDAY=FR;BYHOUR=22;BYMINUTE=0",
    )
