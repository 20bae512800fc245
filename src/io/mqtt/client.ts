/**
 * MQTT edges: the client (persistent session, QoS 1, reconnect with back-off, TLS, credentials), the
 * telemetry input as an Observable of decoded samples, and the embedded broker used when none is configured.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import mqtt, { type IClientOptions, type IStore, type MqttClient } from 'mqtt';

type IMessageIdProvider = NonNullable<IClientOptions['messageIdProvider']>;
import { Observable } from 'rxjs';
import type { Sample } from '../../domain/sample.js';
import { Backoff } from '../backoff.js';
import { acknowledgeAfterJournal, holdOutgoingPackets, type PublishRoutes } from './groupCommit.js';
import type { OversizedPublish } from './publishReader.js';
import { decodeImpedance, decodeMessages, IMPEDANCE_KIND, MAX_PAYLOAD_BYTES, META_KIND, type ImpedanceReading } from '../wire/payload.js';
import type { RejectReason } from '../../domain/reject.js';
import type { ArrivedNumbers } from '../numbers.js';

export interface MqttConnectOptions {
  readonly url: string;
  readonly clientId: string;
  /** MQTT 3.1.1 (4, default) or 5. With 5 every packet goes through mqtt.js (the PUBLISH reader reads 3.1.1 only). */
  readonly protocolVersion?: 4 | 5;
  readonly username?: string;
  readonly password?: string;
  /** false: a persistent session, so QoS 1 messages published while we are down are delivered on return. */
  readonly clean: boolean;
  /** First reconnect delay; doubled on every failed attempt up to `maxReconnectPeriod_ms`. */
  readonly reconnectPeriod_ms: number;
  readonly maxReconnectPeriod_ms?: number;
  readonly tls?: { caFile?: string; certFile?: string; keyFile?: string; rejectUnauthorized: boolean };
  /**
   * Group commit: called before acknowledgements (PUBACK) leave, with every message they acknowledge already
   * handled; whatever must be durable first (the journal) is written here, once for all of them. Without it,
   * packets leave as mqtt.js writes them.
   */
  readonly beforeAcknowledge?: () => void;
  /** Called when `beforeAcknowledge` throws: the acknowledgements are withheld and the connection restarted. */
  readonly onAcknowledgeError?: (e: Error) => void;
  /** Where unfinished outgoing QoS 1/2 messages are kept (in memory by default; on disk for exactly-once). */
  readonly outgoingStore?: IStore;
  /**
   * The packets written in one turn of the event loop leave in one socket write (as with `beforeAcknowledge`,
   * without a commit): a publisher of many small messages saves a system call per packet.
   */
  readonly coalesceWrites?: boolean;
  /**
   * With `beforeAcknowledge`: after a read that drained the socket, wait up to this long before the next one, while
   * more keeps arriving, so the next messages come as one batch (see `ReadPacing`). 0 (the default) reads as data
   * arrives.
   */
  readonly readPause_ms?: number;
  /**
   * false: the plain path, without the group commit's hold on mqtt.js internals (see `groupCommit.ts`): each
   * QoS 1 message's `beforeAcknowledge` runs before its own PUBACK, through mqtt.js's public `handleMessage`.
   */
  readonly groupCommit?: boolean;
  /** Said once when the group commit cannot be used (mqtt.js without its seams) or the PUBLISH reader steps aside. */
  readonly log?: (message: string) => void;
}

/**
 * Packet ids that are never handed out while in use (ids restored from a store on disk are registered), taken in
 * a cycle: mqtt.js's own unique provider scans from the lowest freed id, which with tens of thousands in flight
 * costs a scan of all of them per message.
 */
export class CyclicMessageIds implements IMessageIdProvider {
  private readonly used = new Set<number>();
  private last = 0;

  allocate(): number | null {
    if (this.used.size >= 65535) return null;
    let id = this.last;
    do id = id >= 65535 ? 1 : id + 1;
    while (this.used.has(id));
    this.used.add(id);
    this.last = id;
    return id;
  }

  getLastAllocated(): number | null {
    return this.last === 0 ? null : this.last;
  }

  register(id: number): boolean {
    if (id < 1 || id > 65535 || this.used.has(id)) return false;
    this.used.add(id);
    return true;
  }

  deallocate(id: number): void {
    this.used.delete(id);
  }

  clear(): void {
    this.used.clear();
  }
}

export function connectMqtt(o: MqttConnectOptions): MqttClient {
  const options: IClientOptions = {
    clientId: o.clientId,
    clean: o.clean,
    protocolVersion: o.protocolVersion ?? 4,
    // MQTT 5 lets the client state the largest packet it takes: the broker drops a larger one (and counts it) rather
    // than sending what would be refused here after being assembled whole.
    ...(o.protocolVersion === 5 ? { properties: { maximumPacketSize: MAX_PACKET_BYTES + 5 } } : {}),
    reconnectPeriod: o.reconnectPeriod_ms,
    connectTimeout: 10_000,
    username: o.username,
    password: o.password,
    resubscribe: true,
    // Packet ids of messages restored from a store on disk are taken, not handed out again.
    ...(o.outgoingStore !== undefined ? { outgoingStore: o.outgoingStore, messageIdProvider: new CyclicMessageIds() } : {}),
    manualConnect: o.beforeAcknowledge !== undefined || o.coalesceWrites === true,
    // mqtt.js traces every packet through `debug`; unless asked for (DEBUG=mqttjs*), that is time spent on nothing.
    ...(process.env['DEBUG']?.includes('mqttjs') ? {} : { log: () => {} }),
  };
  if (o.tls !== undefined) {
    if (o.tls.caFile) options.ca = readFileSync(o.tls.caFile);
    if (o.tls.certFile) options.cert = readFileSync(o.tls.certFile);
    if (o.tls.keyFile) options.key = readFileSync(o.tls.keyFile);
    options.rejectUnauthorized = o.tls.rejectUnauthorized;
  }
  const client = mqtt.connect(o.url, options);
  if (options.manualConnect === true) {
    const log = o.log ?? (() => {});
    const onError = o.onAcknowledgeError ?? (() => {});
    let held = false;
    if (o.groupCommit !== false) {
      held = holdOutgoingPackets(client, {
        beforeRelease: o.beforeAcknowledge ?? (() => {}),
        onError,
        readPause_ms: o.readPause_ms ?? 0,
        // The PUBLISH reader reads MQTT 3.1.1 packets (no properties); under MQTT 5 mqtt.js reads them all.
        reader: (o.protocolVersion ?? 4) === 4 ? publishRoutes(client, log) : null,
      });
      if (!held) log('mqtt: this mqtt.js version lacks what the group commit wraps (streamBuilder, _writePacket): one journal write per message');
    }
    if (!held && o.beforeAcknowledge !== undefined) acknowledgeAfterJournal(client, o.beforeAcknowledge, onError);
    client.connect();
  }
  // Exponential back-off: mqtt.js reads reconnectPeriod each time it schedules an attempt.
  const backoff = new Backoff({ initial_ms: o.reconnectPeriod_ms, max_ms: o.maxReconnectPeriod_ms ?? 30_000 });
  client.on('close', () => {
    client.options.reconnectPeriod = backoff.next();
  });
  client.on('connect', () => backoff.reset());
  return client;
}

/** The client's message routes as the PUBLISH reader reaches them. */
function publishRoutes(client: MqttClient, log: (message: string) => void): PublishRoutes {
  return {
    // Only while the routes are the one `message` listener: another listener expects mqtt.js to see every message.
    active: () => client.listenerCount('message') === 1 && client.listenerCount('packetreceive') === 0 && routesOf.has(client),
    deliver: (topic, payload) => routesOf.get(client)?.listener(topic, payload),
    oversized: (p) => routesOf.get(client)?.oversized?.(p),
    maxPacketBytes: MAX_PACKET_BYTES,
    onBypass: (why) => log(`mqtt: the broker sent ${why}: mqtt.js reads the rest of this connection`),
  };
}

/** The largest PUBLISH packet assembled: the payload limit, and room for the topic. */
export const MAX_PACKET_BYTES = MAX_PAYLOAD_BYTES + 1024;

export const TELEMETRY_KINDS = ['ec', 'pressure', 'temperature', 'telemetry'] as const;

/** The topics to subscribe to: only the listed cells' when given (sharding), else wildcards. */
export function telemetryTopics(prefix: string, cells: readonly string[] | null): string[] {
  const ids = cells ?? ['+'];
  return ids.flatMap((id) => TELEMETRY_KINDS.map((k) => `${prefix}/${id}/${k}`));
}

export interface TelemetryInputOptions {
  readonly topics: readonly string[];
  readonly qos: 0 | 1 | 2;
  readonly topicPrefix: string;
  readonly accept: (cell: string) => boolean;
  readonly onReject: (reason: RejectReason, topic: string, detail: string, payload: Buffer) => void;
  readonly log: (message: string) => void;
  /** Where the decoder keeps the texts the last message's numbers arrived as, for the raw line (io/numbers.ts). */
  readonly arrived?: ArrivedNumbers;
}

/**
 * Decoded telemetry from a connected client. Subscribes on every (re)connection that lost the session;
 * a persistent session keeps its subscriptions on the broker.
 */
export function telemetryInput(client: MqttClient, o: TelemetryInputOptions): Observable<Sample> {
  return new Observable<Sample>((subscriber) => {
    const subscribe = (): void => {
      client.subscribe([...o.topics], { qos: o.qos }, (err) => {
        if (err) o.log(`mqtt: subscribe failed: ${err.message}`);
      });
    };
    let offline = false;
    const onConnect = (connack: { sessionPresent: boolean }): void => {
      offline = false;
      o.log(`mqtt: connected (session ${connack.sessionPresent ? 'resumed' : 'new'})`);
      if (!connack.sessionPresent) subscribe();
    };
    // The message being decoded, for the two callbacks made once (not a closure per message).
    let topicNow = '';
    let payloadNow: Buffer = Buffer.alloc(0);
    const onSample = (s: Sample): void => {
      if (o.accept(s.cell)) subscriber.next(s);
    };
    const onBad = (reason: RejectReason, detail: string): void => o.onReject(reason, topicNow, detail, payloadNow);
    // Impedance points and cell metadata share the client: the router hands them to their own inputs.
    const onMessage = (topic: string, payload: Buffer): void => {
      topicNow = topic;
      payloadNow = payload;
      decodeMessages(topic, payload, o.topicPrefix, onSample, onBad, o.arrived);
    };
    const onOffline = (): void => {
      if (!offline) o.log('mqtt: connection lost, reconnecting with back-off');
      offline = true;
    };
    const onError = (e: Error): void => o.log(`mqtt: ${e.message}`);
    client.on('connect', onConnect);
    const stopMessages = routeMessages(client, TELEMETRY_ROUTE, onMessage);
    const routes = routesOf.get(client)!;
    routes.oversized = (p) => o.onReject('too-large', p.topic, `${p.payloadBytes} bytes > ${MAX_PAYLOAD_BYTES} (skipped unread)`, p.head);
    client.on('offline', onOffline);
    client.on('error', onError);
    if (client.connected) subscribe();
    return () => {
      client.off('connect', onConnect);
      routes.oversized = null;
      stopMessages();
      client.off('offline', onOffline);
      client.off('error', onError);
    };
  });
}

type MessageHandler = (topic: string, payload: Buffer) => void;

/** The topic tails of the inputs beside the telemetry; every other message is telemetry. */
const SIDE_TAILS = ['/' + IMPEDANCE_KIND, '/' + META_KIND] as const;
const TELEMETRY_ROUTE = 'telemetry';
/** Routes by index: the side tails', then the telemetry's. */
const ROUTES: readonly string[] = [...SIDE_TAILS, TELEMETRY_ROUTE];

interface MessageRoutes {
  /** Per route, its input (null: none listening; a side message is then dropped, it is never telemetry). */
  readonly handlers: (MessageHandler | null)[];
  readonly listener: MessageHandler;
  /** Where a PUBLISH too large to read goes (the telemetry input's rejections). */
  oversized: ((p: OversizedPublish) => void) | null;
}
const routesOf = new WeakMap<MqttClient, MessageRoutes>();

/**
 * One `message` listener per client, handing each message to the input of its kind. With one listener per input,
 * node copies the listener list for every message and each input looks at every topic: per message, on the
 * monitor's hottest path. Returns what removes the route.
 */
function routeMessages(client: MqttClient, route: string, handler: MessageHandler): () => void {
  let r = routesOf.get(client);
  if (r === undefined) {
    const routes: MessageRoutes = {
      handlers: ROUTES.map(() => null),
      oversized: null,
      listener: (topic, payload) => {
        let i = 0;
        while (i < SIDE_TAILS.length && !topic.endsWith(SIDE_TAILS[i]!)) i++;
        routes.handlers[i]?.(topic, payload);
      },
    };
    r = routes;
    routesOf.set(client, r);
    client.on('message', r.listener);
  }
  const routes = r;
  const index = ROUTES.indexOf(route);
  if (index < 0) throw new Error(`mqtt: no message route for "${route}"`);
  if (routes.handlers[index] !== null) throw new Error(`mqtt: two inputs for the "${route}" messages of one client`);
  routes.handlers[index] = handler;
  return () => {
    if (routes.handlers[index] === handler) routes.handlers[index] = null;
    if (routes.handlers.every((h) => h === null)) {
      client.off('message', routes.listener);
      routesOf.delete(client);
    }
  };
}

export interface SideInputOptions<T> {
  readonly topicPrefix: string;
  /** The last topic level: `impedance`, `meta`. */
  readonly kind: string;
  readonly qos: 0 | 1 | 2;
  readonly decode: (topic: string, payload: Buffer, prefix: string) => { ok: true; value: T } | { ok: false; reason: RejectReason; detail: string };
  readonly onReject: (reason: RejectReason, topic: string, detail: string, payload: Buffer) => void;
  readonly log: (message: string) => void;
}

/**
 * Messages of one kind beside the telemetry (`<prefix>/<cell>/impedance`, the retained `<prefix>/<cell>/meta`):
 * context for the monitor, not detector input.
 */
export function sideInput<T>(client: MqttClient, o: SideInputOptions<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    const topic = `${o.topicPrefix}/+/${o.kind}`;
    const tail = '/' + o.kind;
    const subscribe = (): void => {
      client.subscribe(topic, { qos: o.qos }, (err) => {
        if (err) o.log(`mqtt: subscribe to ${topic} failed: ${err.message}`);
      });
    };
    // Also on a resumed session: one made by a version that did not take this kind lacks the subscription.
    const onConnect = (): void => subscribe();
    const onMessage = (t: string, payload: Buffer): void => {
      const d = o.decode(t, payload, o.topicPrefix);
      if (!d.ok) return o.onReject(d.reason, t, d.detail, payload);
      subscriber.next(d.value);
    };
    client.on('connect', onConnect);
    const stopMessages = routeMessages(client, tail, onMessage);
    if (client.connected) subscribe();
    return () => {
      client.off('connect', onConnect);
      stopMessages();
    };
  });
}

/** Impedance points (`<prefix>/<cell>/impedance`). */
export function impedanceInput(client: MqttClient, o: Omit<SideInputOptions<ImpedanceReading>, 'kind' | 'decode'>): Observable<ImpedanceReading> {
  return sideInput(client, {
    ...o,
    kind: IMPEDANCE_KIND,
    decode: (t, payload, prefix) => {
      const d = decodeImpedance(t, payload, prefix);
      return d.ok ? { ok: true, value: d.point } : d;
    },
  });
}

export interface EmbeddedBroker {
  readonly url: string;
  readonly port: number;
  /** The aedes instance, for its events. */
  readonly aedes: import('aedes').Aedes;
  close(): Promise<void>;
}

/** An in-process broker (aedes) for a bare machine or a demo. Port 0 picks a free one. */
export async function startEmbeddedBroker(host: string, port: number): Promise<EmbeddedBroker> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker({
    // A bridge keeps up to its maxBuffered (2,000 by default) QoS 2 messages in flight; aedes' default of 1,000
    // unanswered ones per client disconnects it.
    maxInflightInbound: 0,
    // Client ids such as `cyclewatch-bridge-<hostname>` run past MQTT 3.1.1's minimum of 23 characters.
    maxClientsIdLength: 256,
  });
  const server: Server = createServer(broker.handle as (socket: import('node:net').Socket) => void);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actual = typeof address === 'object' && address !== null ? address.port : port;
  return {
    url: `mqtt://${host}:${actual}`,
    port: actual,
    aedes: broker,
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()));
      }),
  };
}

export interface OutgoingMessage {
  readonly topic: string;
  readonly payload: string;
  readonly retain?: boolean;
}
