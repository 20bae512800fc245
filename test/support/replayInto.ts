/** Replays a file at full speed through a running monitor's broker and waits until it has taken every message. */
import { replay } from '../../pipelines/replay.js';
import type { RunHandle } from '../../pipelines/run.js';

export async function replayInto(handle: RunHandle, files: string[], timeout_ms = 60_000): Promise<number> {
  await new Promise((r) => setTimeout(r, 300)); // let the monitor's subscription settle
  const { published } = await replay({ files, brokerUrl: handle.brokerUrl, speed: 'max', topicPrefix: 'cells', qos: 1, maxInFlight: 500, log: () => {} });
  const t0 = Date.now();
  const taken = (): number => handle.metrics.value('cyclewatch_messages_in_total') + handle.metrics.value('cyclewatch_impedance_points_total');
  while (taken() < published && Date.now() - t0 < timeout_ms) await new Promise((r) => setTimeout(r, 50));
  return published;
}
