#!/bin/sh
# Write the password file from the environment, then start the broker.
set -eu
umask 077
: > /mosquitto/data/passwd
mosquitto_passwd -b /mosquitto/data/passwd "$MQTT_USERNAME" "$MQTT_PASSWORD"
chown mosquitto:mosquitto /mosquitto/data/passwd 2>/dev/null || true
exec /usr/sbin/mosquitto -c /mosquitto/config/mosquitto.conf
