/**
 * The Compose deployment's scripts run for real, without Docker: file modes as git stores them, InfluxDB's init
 * script through the same `run-parts` call the influxdb:2.7 image makes (with a stub `influx` that records its
 * arguments), the secrets check, and the Mosquitto entrypoint with Debian's `mosquitto` and `mosquitto_passwd`
 * (its paths moved to a temporary folder). Plus what docker-compose.yml promises about ports, health and secrets.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, removeDir, which } from '../integration/servers.js';

const root = resolve(__dirname, '../..');
type Json = Record<string, unknown>;
const compose = (): { services: Record<string, Json> } => parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Json> };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('deployment scripts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-deploy-'));
  afterAll(() => removeDir(dir));

  it('keeps the scripts executable in git (run-parts skips a file that is not)', () => {
    const modes = new Map(
      spawnSync('git', ['ls-files', '-s', 'deploy'], { cwd: root, encoding: 'utf8' })
        .stdout.trim()
        .split('\n')
        .map((l) => [l.split('\t')[1]!, l.split(' ')[0]!]),
    );
    for (const f of ['deploy/influxdb/dbrp.sh', 'deploy/mosquitto/entrypoint.sh', 'deploy/check-secrets.sh']) expect(modes.get(f), f).toBe('100755');
  });

  it.skipIf(which('run-parts') === null)("runs dbrp.sh through the influxdb image's run-parts: a DBRP mapping and a read-only v1 user for Grafana", () => {
    const initdb = join(dir, 'docker-entrypoint-initdb.d');
    const bin = join(dir, 'bin');
    mkdirSync(initdb, { recursive: true });
    mkdirSync(bin, { recursive: true });
    copyFileSync(join(root, 'deploy/influxdb/dbrp.sh'), join(initdb, 'dbrp.sh'));
    // The mode git checks out, not the one this working copy happens to have.
    const mode = spawnSync('git', ['ls-files', '-s', 'deploy/influxdb/dbrp.sh'], { cwd: root, encoding: 'utf8' }).stdout.split(' ')[0]!;
    chmodSync(join(initdb, 'dbrp.sh'), Number.parseInt(mode.slice(-3), 8));
    const calls = join(dir, 'influx-calls');
    writeFileSync(
      join(bin, 'influx'),
      `#!/bin/sh\nprintf '%s\\n' "$*" >> '${calls}'\ncase "$1 $2" in 'bucket list') echo '0a1b2c3d4e5f6789 cyclewatch infinite 168h0m0s 0f0e0d0c0b0a0908';; esac\n`,
    );
    chmodSync(join(bin, 'influx'), 0o755);
    const env = {
      PATH: `${bin}:${process.env['PATH']}`,
      DOCKER_INFLUXDB_INIT_ORG: 'lab',
      DOCKER_INFLUXDB_INIT_BUCKET: 'cyclewatch',
      INFLUX_GRAFANA_USER: 'grafana',
      INFLUX_GRAFANA_PASSWORD: 'reader-pw-1',
    };
    // influxdb/2.7/entrypoint.sh: run-parts --regex ".*sh$" --report --exit-on-error ${USER_SCRIPT_DIR}
    const r = spawnSync('run-parts', ['--regex', '.*sh$', '--report', '--exit-on-error', initdb], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const lines = readFileSync(calls, 'utf8').trim().split('\n');
    expect(lines).toContain('v1 dbrp create --org lab --bucket-id 0a1b2c3d4e5f6789 --db cyclewatch --rp autogen --default');
    const auth = lines.find((l) => l.startsWith('v1 auth create'))!;
    expect(auth).toContain('--username grafana --password reader-pw-1 --read-bucket 0a1b2c3d4e5f6789');
    expect(auth).not.toMatch(/--write-bucket|--all-access/);
  });

  it('refuses empty secrets and the placeholders of .env.example, naming the variables and never their values', () => {
    const placeholders = Object.fromEntries(
      readFileSync(join(root, '.env.example'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const bad = spawnSync('sh', [join(root, 'deploy/check-secrets.sh')], { env: { PATH: process.env['PATH'], ...placeholders }, encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/MQTT_PASSWORD INFLUX_ADMIN_PASSWORD INFLUX_TOKEN INFLUX_GRAFANA_PASSWORD GRAFANA_ADMIN_PASSWORD/);
    expect(bad.stderr).not.toContain('change-me-');
    const secrets = { MQTT_PASSWORD: 'a1', INFLUX_ADMIN_PASSWORD: 'b2', INFLUX_TOKEN: 'c3', INFLUX_GRAFANA_PASSWORD: 'd4', GRAFANA_ADMIN_PASSWORD: 'e5' };
    expect(spawnSync('sh', [join(root, 'deploy/check-secrets.sh')], { env: { PATH: process.env['PATH'], ...secrets } }).status).toBe(0);
    const one = spawnSync('sh', [join(root, 'deploy/check-secrets.sh')], {
      env: { PATH: process.env['PATH'], ...secrets, INFLUX_TOKEN: '' },
      encoding: 'utf8',
    });
    expect(one.status).toBe(1);
    expect(one.stderr.trim().endsWith(': INFLUX_TOKEN')).toBe(true);
  });

  describe.skipIf(which('mosquitto') === null || which('mosquitto_sub') === null || which('openssl') === null)(
    "Mosquitto's entrypoint with Debian's mosquitto",
    () => {
      let broker: ChildProcess | null = null;
      afterAll(() => broker?.kill('SIGKILL'));
      const base = join(dir, 'mosquitto');
      const ports = { plain: 0, tls: 0 };
      const password = 'pw-Xq81-secret';

      /** deploy/mosquitto/* with /mosquitto/ moved under `base` and the listeners on free local ports. */
      async function install(): Promise<void> {
        ports.plain = await freePort();
        ports.tls = await freePort();
        for (const d of ['config', 'data', 'certs', 'home']) mkdirSync(join(base, d), { recursive: true });
        // Mosquitto drops to its own user: it must reach its files through the (private) temporary folder.
        chmodSync(dir, 0o755);
        chmodSync(base, 0o755);
        chmodSync(join(base, 'data'), 0o777);
        const move = (text: string): string => text.replaceAll('/mosquitto/', `${base}/`);
        writeFileSync(
          join(base, 'config', 'entrypoint.sh'),
          move(readFileSync(join(root, 'deploy/mosquitto/entrypoint.sh'), 'utf8')).replace('listener 8883', `listener ${ports.tls} 127.0.0.1`),
        );
        writeFileSync(
          join(base, 'config', 'mosquitto.conf'),
          move(readFileSync(join(root, 'deploy/mosquitto/mosquitto.conf'), 'utf8')).replace('listener 1883', `listener ${ports.plain} 127.0.0.1`),
        );
        const cert = spawnSync(
          'openssl',
          [
            'req',
            '-x509',
            '-newkey',
            'rsa:2048',
            '-nodes',
            '-days',
            '2',
            '-subj',
            '/CN=127.0.0.1',
            '-addext',
            'subjectAltName=IP:127.0.0.1',
            '-keyout',
            join(base, 'certs', 'server.key'),
            '-out',
            join(base, 'certs', 'server.crt'),
          ],
          { encoding: 'utf8' },
        );
        expect(cert.status, cert.stderr).toBe(0);
        chmodSync(join(base, 'certs', 'server.key'), 0o644);
      }

      const env = (over: Record<string, string> = {}) => ({
        PATH: process.env['PATH'],
        HOME: join(base, 'home'),
        MQTT_USERNAME: 'cyclewatch',
        MQTT_PASSWORD: password,
        ...over,
      });

      const tryConnect = (url: string, options: mqtt.IClientOptions): Promise<string> =>
        new Promise((res) => {
          const c = mqtt.connect(url, { ...options, reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4 });
          c.once('connect', () => {
            c.end(true);
            res('accepted');
          });
          c.once('error', (e) => {
            c.end(true);
            res(`refused: ${e.message}`);
          });
        });

      it('refuses to start on a placeholder password', () => {
        const r = spawnSync('sh', [join(root, 'deploy/mosquitto/entrypoint.sh')], { env: env({ MQTT_PASSWORD: 'change-me-mqtt' }), encoding: 'utf8' });
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/set MQTT_PASSWORD in \.env/);
      });

      it('accepts the configured user, refuses anonymous and wrong-password clients, on 1883 and on TLS; the password in no command line', async () => {
        await install();
        let out = '';
        broker = spawn('sh', [join(base, 'config', 'entrypoint.sh')], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
        broker.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        broker.stderr!.on('data', (d: Buffer) => (out += d.toString()));
        const t0 = Date.now();
        while ((await tryConnect(`mqtt://127.0.0.1:${ports.plain}`, { username: 'cyclewatch', password })) !== 'accepted') {
          if (Date.now() - t0 > 15_000) throw new Error(`the broker did not start:\n${out}`);
          await sleep(200);
        }
        expect(out).toMatch(/TLS listener on 8883/);
        expect(await tryConnect(`mqtt://127.0.0.1:${ports.plain}`, {})).toMatch(/^refused: .*(Not authorized|Connection refused)/i);
        expect(await tryConnect(`mqtt://127.0.0.1:${ports.plain}`, { username: 'cyclewatch', password: 'wrong' })).toMatch(/^refused/);
        const ca = readFileSync(join(base, 'certs', 'server.crt'));
        expect(await tryConnect(`mqtts://127.0.0.1:${ports.tls}`, { username: 'cyclewatch', password, ca, rejectUnauthorized: true })).toBe('accepted');
        expect(await tryConnect(`mqtts://127.0.0.1:${ports.tls}`, { ca, rejectUnauthorized: true })).toMatch(/^refused/);
        // The Compose healthcheck's command, its credentials from the options file the entrypoint wrote.
        const test = (compose().services['mosquitto']!['healthcheck'] as { test: string[] }).test[1]!.replace('$$SYS', '$SYS');
        const health = spawnSync('sh', ['-c', `${test} -p ${ports.plain}`], { env: env({ MQTT_PASSWORD: '' }), encoding: 'utf8', timeout: 10_000 });
        expect(health.status, health.stderr).toBe(0);
        expect(test).not.toMatch(/MQTT_PASSWORD|-P /);
        const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
        expect(ps).toContain(`${base}/config/mosquitto.conf`);
        expect(ps).not.toContain(password);
      }, 60_000);
    },
  );
});

describe('docker-compose.yml', () => {
  it('has health checks with a start period for every long-running service, cyclewatch included (/healthz)', () => {
    const { services } = compose();
    for (const name of ['mosquitto', 'influxdb', 'grafana', 'cyclewatch']) {
      const h = services[name]!['healthcheck'] as Json | undefined;
      expect(h, name).toBeDefined();
      expect(h!['start_period'], name).toMatch(/^\d+s$/);
    }
    expect(JSON.stringify((services['cyclewatch']!['healthcheck'] as Json)['test'])).toContain('/healthz');
  });

  it('starts nothing before the secrets check, and the demo only once cyclewatch is healthy and built', () => {
    const { services } = compose();
    const dependsOn = (name: string): Record<string, { condition: string }> => (services[name]!['depends_on'] ?? {}) as Record<string, { condition: string }>;
    const reaches = (name: string, target: string): boolean => name === target || Object.keys(dependsOn(name)).some((d) => reaches(d, target));
    for (const name of Object.keys(services).filter((n) => n !== 'check-secrets')) expect(reaches(name, 'check-secrets'), name).toBe(true);
    expect(dependsOn('mosquitto')['check-secrets']!.condition).toBe('service_completed_successfully');
    expect(dependsOn('demo')['cyclewatch']!.condition).toBe('service_healthy');
    expect(services['demo']!['build']).toBe('.');
    // The demo's runs end now (simulate's default start), and replay keeps their times.
    expect(String((services['demo']!['command'] as string[])[0])).not.toMatch(/--start/);
  });

  it('publishes InfluxDB and /metrics on this host only, MQTT on 1883 and TLS 8883, and never hands Grafana the admin token', () => {
    const { services } = compose();
    const ports = (name: string): string[] => services[name]!['ports'] as string[];
    expect(ports('influxdb')).toEqual(['${INFLUX_BIND:-127.0.0.1}:${INFLUX_PORT:-8086}:8086']);
    expect(ports('cyclewatch')).toEqual(['${METRICS_BIND:-127.0.0.1}:${CYCLEWATCH_METRICS_PORT:-9464}:9464']);
    expect(ports('mosquitto').some((p) => p.endsWith(':8883'))).toBe(true);
    const grafana = services['grafana']!['environment'] as Json;
    expect(Object.keys(grafana)).not.toContain('INFLUX_TOKEN');
    expect(JSON.stringify(grafana)).not.toContain('INFLUX_TOKEN');
    expect(grafana['GRAFANA_ALERT_WEBHOOK_URL']).toMatch(/^\$\{GRAFANA_ALERT_WEBHOOK_URL:\?/);
    const datasource = readFileSync(join(root, 'grafana/provisioning/datasources/influxdb.yaml'), 'utf8');
    expect(datasource).toMatch(/user: \$\{INFLUX_GRAFANA_USER\}/);
    expect(datasource).not.toMatch(/INFLUX_TOKEN|Authorization/);
    // cyclewatch's webhook comes from the environment variable Compose passes.
    expect(readFileSync(join(root, 'deploy/cyclewatch.yaml'), 'utf8')).toContain('${ALERT_WEBHOOK_URL:-}');
  });

  it('keeps .env and certificates out of git and out of the image', () => {
    for (const f of ['.gitignore', '.dockerignore']) expect(readFileSync(join(root, f), 'utf8').split('\n'), f).toContain('.env');
    const ignored = spawnSync('git', ['check-ignore', '.env', 'deploy/mosquitto/certs/server.key'], { cwd: root, encoding: 'utf8' }).stdout.trim().split('\n');
    expect(ignored).toEqual(['.env', 'deploy/mosquitto/certs/server.key']);
    expect(spawnSync('git', ['check-ignore', 'deploy/mosquitto/certs/README.md'], { cwd: root }).status).toBe(1);
  });
});
