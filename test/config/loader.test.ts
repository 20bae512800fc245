import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../src/config/loader.js';
import { redactConfig } from '../../src/config/schema.js';
import { shardOf } from '../../src/domain/shard.js';

describe('run configuration', () => {
  it('has embedded defaults: no broker, no database', () => {
    const c = parseRunConfig(null);
    expect(c.mqtt.url).toBeUndefined();
    expect(c.influx).toBeUndefined();
    expect(c.mqtt.qos).toBe(1);
    expect(c.dataDir).toBe('./data');
  });

  it('refuses qos 2 with one line saying why (acknowledged before it can be journalled)', () => {
    expect(() => parseRunConfig('mqtt: { qos: 2 }\n', 'x.yaml')).toThrow(/mqtt\.qos: qos 2 is not supported by the monitor: .*PUBREC.*use qos: 1/);
    expect(parseRunConfig('mqtt: { qos: 0 }\n', 'x.yaml').mqtt.qos).toBe(0);
  });

  it('speaks MQTT 3.1.1 by default, 5 when asked, and refuses any other version with one line', () => {
    expect(parseRunConfig(null).mqtt.protocolVersion).toBe(4);
    expect(parseRunConfig('mqtt: { protocolVersion: 5 }\n', 'x.yaml').mqtt.protocolVersion).toBe(5);
    expect(() => parseRunConfig('mqtt: { protocolVersion: 3 }\n', 'x.yaml')).toThrow(
      /mqtt\.protocolVersion: mqtt\.protocolVersion must be 4 \(MQTT 3\.1\.1\) or 5 \(MQTT 5\)/,
    );
  });

  it('interpolates ${ENV} and ${ENV:-default}, and names the key of a missing variable', () => {
    const c = parseRunConfig('mqtt:\n  url: mqtt://${HOST:-localhost}:1883\n  password: ${PW}\n', 'x.yaml', { PW: 'pw1' });
    expect(c.mqtt.url).toBe('mqtt://localhost:1883');
    expect(c.mqtt.password).toBe('pw1');
    expect(() => parseRunConfig('influx:\n  url: http://db\n  token: ${NOPE}\n', 'x.yaml', {})).toThrow(/influx\.token: environment variable NOPE is not set/);
  });

  it('refuses the placeholders of .env.example and takes an empty webhook url (unset variable) as no webhook', () => {
    const deploy = readFileSync(join(__dirname, '../../deploy/cyclewatch.yaml'), 'utf8');
    const env = { MQTT_USERNAME: 'u', MQTT_PASSWORD: 'change-me-mqtt', INFLUX_TOKEN: 'a-real-token', ALERT_WEBHOOK_URL: '' };
    expect(() => parseRunConfig(deploy, 'cyclewatch.yaml', env)).toThrow(/mqtt\.password is still the placeholder from \.env\.example/);
    expect(() => parseRunConfig(deploy, 'cyclewatch.yaml', { ...env, MQTT_PASSWORD: 'x', INFLUX_TOKEN: 'change-me-long-random-token' })).toThrow(
      /influx\.token/,
    );
    expect(parseRunConfig(deploy, join(__dirname, '../../deploy/cyclewatch.yaml'), { ...env, MQTT_PASSWORD: 'pw' }).alerts.webhooks).toEqual([]);
    const hooked = parseRunConfig(deploy, join(__dirname, '../../deploy/cyclewatch.yaml'), {
      ...env,
      MQTT_PASSWORD: 'pw',
      ALERT_WEBHOOK_URL: 'https://hooks.example/x',
    });
    expect(hooked.alerts.webhooks.map((w) => w.url)).toEqual(['https://hooks.example/x']);
  });

  it('names the key and the problem for invalid values', () => {
    expect(() => parseRunConfig('mqtt:\n  qos: 3\n', 'x.yaml')).toThrow(/mqtt\.qos/);
    expect(() => parseRunConfig('influx:\n  url: not a url\n', 'x.yaml')).toThrow(/influx\.url/);
    expect(() => parseRunConfig('shard: { index: 2, count: 2 }\n', 'x.yaml')).toThrow(/shard: shard index must be below count/);
    expect(() => parseRunConfig('mqttt: {}\n', 'x.yaml')).toThrow(/mqttt/);
  });

  it('reads secrets from files and hides them in any dump', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-config-'));
    writeFileSync(join(dir, 'token'), 'tok-789\n');
    const c = parseRunConfig(
      'influx:\n  url: http://db:8086\n  tokenFile: token\nalerts:\n  webhooks: [{ url: "https://hooks.example/T0/secret" }]\nmqtt: { password: pw }\n',
      join(dir, 'c.yaml'),
    );
    expect(c.influx!.token).toBe('tok-789');
    const dump = JSON.stringify(redactConfig(c));
    expect(dump).not.toContain('tok-789');
    expect(dump).not.toContain('secret');
    expect(dump).not.toContain('"pw"');
  });
});

describe('sharding', () => {
  it('spreads cells over instances deterministically and roughly evenly', () => {
    const counts = [0, 0, 0, 0];
    for (let k = 0; k < 4000; k++) counts[shardOf(`cell-${k}`, 4)]!++;
    for (const n of counts) expect(n).toBeGreaterThan(800);
    expect(shardOf('cell-7', 4)).toBe(shardOf('cell-7', 4));
  });
});
