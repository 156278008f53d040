import type { Registry } from "prom-client";
import type { Config } from "../config/schema.js";
import type { Clock } from "../lib/clock.js";
import type { Logger } from "./logger.js";

export interface ServiceHealth {
  readonly healthy: boolean;
  /** Why not, or a short state for /healthz ("listening on 127.0.0.1:9180"). */
  readonly detail?: string;
}

/** A component that owns sockets or timers: stop() must release every one of them. */
export interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): ServiceHealth;
  /** A phrase for systemd's STATUS= line ("3 cameras, 3 online", "MQTT connected"); none to stay quiet. */
  status?(): string | undefined;
}

export interface HealthReport {
  readonly healthy: boolean;
  readonly services: Readonly<Record<string, ServiceHealth>>;
}

/** What the daemon gives each service it creates. Nothing else is global. */
export interface ServiceContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics: Registry;
  /** The whole daemon's health, for the service that serves it. */
  readonly healthReport: () => HealthReport;
  /** Tells the daemon that status() would now say something else. */
  readonly statusChanged: () => void;
  /** A running service this one declared in dependsOn; undefined when that one is disabled. */
  readonly lookup: <T extends Service>(name: string) => T | undefined;
  /** The config file the daemon was started with, when there is one: for commands it tells of. */
  readonly configFile?: string | undefined;
}

export interface ServiceSpec {
  readonly name: string;
  /** Services started before this one and stopped after it. */
  readonly dependsOn?: readonly string[];
  /** Config key prefixes this service is built from: a reload that changes one restarts it. */
  readonly configKeys: readonly string[];
  /** Whether the config asks for this service at all. */
  readonly enabled?: (config: Config) => boolean;
  readonly create: (context: ServiceContext) => Service;
}
