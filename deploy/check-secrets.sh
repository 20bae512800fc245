#!/bin/sh
# Runs before every other service: refuses to start the deployment on an unset secret or on a placeholder copied
# from .env.example ("change-me…"). Prints the names of the variables at fault, never their values.
bad=''
for name in MQTT_PASSWORD INFLUX_ADMIN_PASSWORD INFLUX_TOKEN INFLUX_GRAFANA_PASSWORD GRAFANA_ADMIN_PASSWORD; do
  eval "value=\${$name:-}"
  case "$value" in
    '' | change-me*) bad="$bad $name" ;;
  esac
done
if [ -n "$bad" ]; then
  echo "cyclewatch deployment: set these in .env to secrets of your own (not empty, not change-me…):$bad" >&2
  exit 1
fi
echo 'cyclewatch deployment: secrets set'
