#!/bin/bash
# Runs once after InfluxDB's initial setup (the image runs /docker-entrypoint-initdb.d/*sh with run-parts, which
# skips files that are not executable: keep this file mode 755).
# 1. Map the bucket to an InfluxQL database/retention policy of the same name, for Grafana's InfluxQL datasource.
# 2. A v1 user for Grafana that can read the bucket and nothing else.
set -euo pipefail
: "${INFLUX_GRAFANA_USER:?}" "${INFLUX_GRAFANA_PASSWORD:?}"
bucket_id=$(influx bucket list --org "$DOCKER_INFLUXDB_INIT_ORG" --name "$DOCKER_INFLUXDB_INIT_BUCKET" --hide-headers | awk '{print $1}')
if [ -z "$bucket_id" ]; then
  echo "dbrp.sh: bucket $DOCKER_INFLUXDB_INIT_BUCKET not found in org $DOCKER_INFLUXDB_INIT_ORG" >&2
  exit 1
fi
influx v1 dbrp create --org "$DOCKER_INFLUXDB_INIT_ORG" --bucket-id "$bucket_id" --db "$DOCKER_INFLUXDB_INIT_BUCKET" --rp autogen --default
influx v1 auth create --org "$DOCKER_INFLUXDB_INIT_ORG" --username "$INFLUX_GRAFANA_USER" --password "$INFLUX_GRAFANA_PASSWORD" \
  --read-bucket "$bucket_id" --description "Grafana (read only)"
