import mqtt, { type MqttClient } from "mqtt";
import protobuf from "protobufjs";

// The host's own reading of the Sparkplug B schema (the parts of sparkplug_b.proto it needs),
// parsed from text: independent of how the edge node builds its messages.
const SCHEMA = `
syntax = "proto2";
package org.eclipse.tahu.protobuf;
message Payload {
  message Metric {
    optional string name = 1;
    optional uint64 alias = 2;
    optional uint64 timestamp = 3;
    optional uint32 datatype = 4;
    optional bool is_historical = 5;
    optional bool is_transient = 6;
    optional bool is_null = 7;
    oneof value {
      uint32 int_value = 10;
      uint64 long_value = 11;
      float float_value = 12;
      double double_value = 13;
      bool boolean_value = 14;
      string string_value = 15;
      bytes bytes_value = 16;
    }
  }
  optional uint64 timestamp = 1;
  repeated Metric metrics = 2;
  optional uint64 seq = 3;
}
`;
const Payload = protobuf.parse(SCHEMA).root.lookupType("org.eclipse.tahu.protobuf.Payload");

export interface HostMetric {
  name?: string;
  alias?: bigint | undefined;
  timestamp?: bigint | undefined;
  datatype?: number;
  isHistorical?: boolean;
  value: unknown;
}

export interface HostMessage {
  topic: string;
  type: string;
  device: string | undefined;
  qos: number;
  retain: boolean;
  seq: bigint | undefined;
  timestamp: bigint | undefined;
  metrics: HostMetric[];
  at: number;
}

const big = (v: unknown) => (v === undefined || v === null ? undefined : BigInt(String(v)));

export function decode(topic: string, bytes: Buffer, qos = 0, retain = false): HostMessage {
  const raw = Payload.toObject(Payload.decode(bytes), { longs: String, bytes: Buffer }) as Record<
    string,
    unknown
  >;
  const [, , type, , device] = topic.split("/");
  const metrics = ((raw.metrics as Record<string, unknown>[] | undefined) ?? []).map((m) => {
    const value =
      m.booleanValue ??
      m.stringValue ??
      m.doubleValue ??
      m.floatValue ??
      m.intValue ??
      big(m.longValue) ??
      m.bytesValue;
    return {
      ...(m.name === undefined ? {} : { name: m.name as string }),
      ...(m.alias === undefined ? {} : { alias: big(m.alias) }),
      ...(m.timestamp === undefined ? {} : { timestamp: big(m.timestamp) }),
      ...(m.datatype === undefined ? {} : { datatype: m.datatype as number }),
      ...(m.isHistorical ? { isHistorical: true } : {}),
      value: m.isNull ? null : value,
    };
  });
  return {
    topic,
    type: type ?? "",
    device,
    qos,
    retain,
    seq: big(raw.seq),
    timestamp: big(raw.timestamp),
    metrics,
    at: Date.now(),
  };
}

export function encodeCommand(
  metrics: { name?: string; alias?: number; datatype: number; value: unknown }[],
): Buffer {
  const message = Payload.fromObject({
    timestamp: Date.now(),
    metrics: metrics.map((m) => ({
      ...(m.name === undefined ? {} : { name: m.name }),
      ...(m.alias === undefined ? {} : { alias: m.alias }),
      datatype: m.datatype,
      ...(typeof m.value === "boolean" ? { booleanValue: m.value } : {}),
      ...(typeof m.value === "number" ? { intValue: m.value } : {}),
    })),
  });
  return Buffer.from(Payload.encode(message).finish());
}

/** A Sparkplug host application of the test's own: reads everything under spBv1.0, publishes STATE and commands. */
export class TestHost {
  readonly messages: HostMessage[] = [];
  readonly client: MqttClient;

  private constructor(client: MqttClient) {
    this.client = client;
    client.on("message", (topic, payload, packet) => {
      if (topic.startsWith("spBv1.0/STATE/")) return;
      this.messages.push(decode(topic, payload, packet.qos, packet.retain));
    });
  }

  static async connect(url: string, id = "host"): Promise<TestHost> {
    const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `${id}-${Math.random()}` });
    const host = new TestHost(client);
    await client.subscribeAsync("spBv1.0/#", { qos: 1 });
    return host;
  }

  of(type: string, device?: string): HostMessage[] {
    return this.messages.filter((m) => m.type === type && (device === undefined || m.device === device));
  }

  async waitFor(
    predicate: (m: HostMessage) => boolean,
    what: string,
    after = 0,
    count = 1,
  ): Promise<HostMessage[]> {
    for (let i = 0; i < 2_000; i++) {
      const found = this.messages.slice(after).filter(predicate);
      if (found.length >= count) return found;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(
      `host never saw ${what}; last: ${this.messages
        .slice(-5)
        .map((m) => m.type)
        .join(", ")}`,
    );
  }

  async state(host: string, online: boolean, timestamp: number): Promise<void> {
    await this.client.publishAsync(`spBv1.0/STATE/${host}`, JSON.stringify({ online, timestamp }), {
      qos: 1,
      retain: true,
    });
  }

  async stop(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** The cycle of each report DDATA, in arrival order, its alias read from the DBIRTH before it. */
export function reportCycles(host: TestHost, device = "cam1"): { cycle: bigint; message: HostMessage }[] {
  let alias: bigint | undefined;
  const out: { cycle: bigint; message: HostMessage }[] = [];
  for (const m of host.messages) {
    if (m.device !== device) continue;
    if (m.type === "DBIRTH") alias = m.metrics.find((x) => x.name === "Inspection 0/Cycle")?.alias;
    if (m.type !== "DDATA" || alias === undefined) continue;
    const cycle = m.metrics.find((x) => x.alias === alias)?.value;
    if (typeof cycle === "bigint") out.push({ cycle, message: m });
  }
  return out;
}
