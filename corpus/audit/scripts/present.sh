#!/bin/sh
echo "rendered by Airflow as a template, then run"
