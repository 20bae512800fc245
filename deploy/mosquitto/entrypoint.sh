#!/bin/sh
# Write the password file from the environment, the TLS listener when certificates are mounted, then start the
# broker. The password never appears on a command line: mosquitto_passwd reads it from stdin, and the healthcheck's
# mosquitto_sub reads its credentials from its options file.
set -eu
case "${MQTT_PASSWORD:-}" in
  '' | change-me*)
    echo 'mosquitto: set MQTT_PASSWORD in .env to a secret of your own (not empty, not change-me…)' >&2
    exit 1
    ;;
esac
umask 077
: > /mosquitto/data/passwd
printf '%s\n%s\n' "$MQTT_PASSWORD" "$MQTT_PASSWORD" | mosquitto_passwd -c /mosquitto/data/passwd "$MQTT_USERNAME" > /dev/null
chown mosquitto:mosquitto /mosquitto/data/passwd 2>/dev/null || true
mkdir -p /mosquitto/data/conf.d "${HOME:-/root}/.config"
printf -- '-u %s\n-P %s\n' "$MQTT_USERNAME" "$MQTT_PASSWORD" > "${HOME:-/root}/.config/mosquitto_sub"
if [ -f /mosquitto/certs/server.crt ] && [ -f /mosquitto/certs/server.key ]; then
  {
    echo 'listener 8883'
    echo 'certfile /mosquitto/certs/server.crt'
    echo 'keyfile /mosquitto/certs/server.key'
    if [ -f /mosquitto/certs/ca.crt ]; then echo 'cafile /mosquitto/certs/ca.crt'; fi
  } > /mosquitto/data/conf.d/tls.conf
  echo 'mosquitto: TLS listener on 8883 (certificates in /mosquitto/certs)'
else
  rm -f /mosquitto/data/conf.d/tls.conf
  echo 'mosquitto: no certificates in /mosquitto/certs: plain text on 1883 only'
fi
umask 022
chmod 755 /mosquitto/data/conf.d
chmod 644 /mosquitto/data/conf.d/*.conf 2>/dev/null || true
exec /usr/sbin/mosquitto -c /mosquitto/config/mosquitto.conf
