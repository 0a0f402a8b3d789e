"""An operator of this repository that a YAML config names by import path."""

from airflow.models.baseoperator import BaseOperator


class NotifyTeam(BaseOperator):
    def __init__(self, channel, **kwargs):
        super().__init__(**kwargs)
        self.channel = channel

    def execute(self, context):
        self.log.info("notify %s", self.channel)
