import type { Config } from "../config/schema.js";
import type { Announce } from "./domain.js";
import type { CameraEndpoint } from "./session.js";
import { DEFAULT_PORTS, type Ports } from "./wire/messages.js";

type CamerasConfig = Config["cameras"];
type Rule = CamerasConfig["discovery"]["rules"][number];

export function inSubnet(ip: string, cidr: string): boolean {
  const [base = "", bits = "32"] = cidr.split("/");
  const toInt = (a: string) => a.split(".").reduce((n, part) => (n << 8) + Number(part), 0) >>> 0;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (toInt(ip) & mask) === (toInt(base) & mask);
}

export function sanitizeId(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 64) || "camera";
}

export function withOverrides(overrides: Readonly<Partial<Record<keyof Ports, number | undefined>>>): Ports {
  const ports: Record<string, number> = { ...DEFAULT_PORTS };
  for (const [name, port] of Object.entries(overrides)) if (port !== undefined) ports[name] = port;
  return ports as unknown as Ports;
}

/**
 * The discovery rules in the order they are tried: the configured rules, then the `adopt`
 * shorthand as rules that carry the defaults' settings.
 */
export function adoptionRules(config: CamerasConfig): readonly Rule[] {
  const { rules, adopt } = config.discovery;
  const shorthand: Rule[] = [];
  const plain = { adopt: true, formattedOutput: [] } as const;
  if (adopt.namePattern !== undefined)
    shorthand.push({ ...plain, match: { namePattern: adopt.namePattern } });
  for (const subnet of adopt.subnets) shorthand.push({ ...plain, match: { subnet } });
  return [...rules, ...shorthand];
}

function matches(rule: Rule, announce: Announce): boolean {
  const { namePattern, serial, model, subnet } = rule.match;
  if (namePattern !== undefined && !new RegExp(namePattern).test(announce.name)) return false;
  if (serial !== undefined && serial !== announce.serial) return false;
  if (model !== undefined && model !== announce.model) return false;
  if (subnet !== undefined && !inSubnet(announce.ip, subnet)) return false;
  return true;
}

/** The index of the first rule that matches the announce in adoptionRules(config), or -1. */
export function matchingRule(config: CamerasConfig, announce: Announce): number {
  return adoptionRules(config).findIndex((rule) => matches(rule, announce));
}

export interface Adoption {
  /** Index in adoptionRules(config), for messages. */
  readonly rule: number;
  readonly endpoint: CameraEndpoint;
}

/** What a static entry or a discovery rule says of its camera; the defaults fill the rest. */
type OwnSettings = Omit<Rule, "match" | "adopt">;

function endpointOf(
  config: CamerasConfig,
  camera: { id: string; address: string; serial?: string | undefined },
  own: OwnSettings,
): CameraEndpoint {
  const defaults = config.defaults;
  return {
    ...camera,
    ports: withOverrides(own.ports ?? {}),
    user: own.user ?? defaults.user,
    password: own.password ?? defaults.password,
    control: own.control ?? defaults.control,
    reports: own.reports ?? defaults.reports,
    firstContact: own.firstContact ?? defaults.firstContact,
    commands: own.commands,
    formattedOutput: own.formattedOutput,
    manufacturer: own.manufacturer ?? defaults.manufacturer,
  };
}

/**
 * What the daemon does with an announced camera: the endpoint it would run, from the first rule
 * that matches, or undefined when no rule adopts it. The id is made from the announced name.
 */
export function adoptionOf(config: CamerasConfig, announce: Announce, id = sanitizeId(announce.name)) {
  const index = matchingRule(config, announce);
  const rule = adoptionRules(config)[index];
  if (!rule?.adopt) return undefined;
  const endpoint = endpointOf(config, { id, address: announce.ip, serial: announce.serial }, rule);
  return { rule: index, endpoint } satisfies Adoption;
}

/** The endpoint of a static camera with the defaults filled in. */
export function staticEndpoint(
  config: CamerasConfig,
  camera: CamerasConfig["static"][number],
): CameraEndpoint {
  return endpointOf(config, { id: camera.id, address: camera.address, serial: camera.serial }, camera);
}
