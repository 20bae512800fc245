#!/bin/bash
# Runs once after InfluxDB's initial setup: map the bucket to an InfluxQL database/retention policy of the
# same name, so that Grafana's InfluxQL datasource (and the dashboards) can query it.
set -euo pipefail
bucket_id=$(influx bucket list --org "$DOCKER_INFLUXDB_INIT_ORG" --name "$DOCKER_INFLUXDB_INIT_BUCKET" --hide-headers | awk '{print $1}')
influx v1 dbrp create --org "$DOCKER_INFLUXDB_INIT_ORG" --bucket-id "$bucket_id" --db "$DOCKER_INFLUXDB_INIT_BUCKET" --rp autogen --default
