import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { MessageSecurityMode, OPCUACertificateManager, OPCUAClient, SecurityPolicy } from "node-opcua";
import { afterEach, describe, expect, it } from "vitest";
import { certificatePlan } from "../../../src/bridges/opcua/certificate.js";
import { buildConfigSchema } from "../../../src/config/schema.js";
import { CLI, freePort, type Spawned, spawnCli, stopChild, tempDir } from "../../support/process.js";
import { type OpcuaRig, startOpcuaRig } from "./rig.js";

const run = promisify(execFile);

let rig: OpcuaRig | undefined;
const running: Spawned[] = [];
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
  await Promise.all(running.splice(0).map(stopChild));
});

/** The server certificate as a client sees it, from GetEndpoints. */
async function serverCertificate(endpointUrl: string): Promise<X509Certificate> {
  const client = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 0 } });
  await client.connect(endpointUrl);
  try {
    const endpoints = await client.getEndpoints();
    const der = endpoints.find((endpoint) => endpoint.serverCertificate)?.serverCertificate;
    if (!der) throw new Error("no server certificate in the endpoints");
    return new X509Certificate(der);
  } finally {
    await client.disconnect();
  }
}

/** A client with a certificate of its own that the server has never seen. */
async function strangerTries(endpointUrl: string, pki: string): Promise<unknown> {
  const client = OPCUAClient.create({
    applicationName: "stranger",
    endpointMustExist: false,
    securityMode: MessageSecurityMode.SignAndEncrypt,
    securityPolicy: SecurityPolicy.Basic256Sha256,
    connectionStrategy: { maxRetry: 0, initialDelay: 50, maxDelay: 100 },
    clientCertificateManager: new OPCUACertificateManager({
      rootFolder: pki,
      automaticallyAcceptUnknownCertificate: true,
    }),
  });
  try {
    await client.connect(endpointUrl);
    const session = await client.createSession();
    await session.close();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await client.disconnect();
  }
}

describe("the OPC UA server certificate and the trust workflow", () => {
  it("names the configured organisation, opcua.hostname, the host and its listening address", async () => {
    rig = await startOpcuaRig({
      rateHz: 0,
      opcua: { certificate: { organization: "ACME Plant 4", country: "DE", validityDays: 30 } },
    });
    const certificate = await serverCertificate(rig.server.endpointUrl);
    expect(certificate.subject).toContain("O=ACME Plant 4");
    expect(certificate.subject).toContain("C=DE");
    expect(certificate.subject).not.toContain("Sterfive");
    const names = (certificate.subjectAltName ?? "").split(/,\s*/);
    expect(names).toEqual(
      expect.arrayContaining([
        "IP Address:127.0.0.1",
        `DNS:${hostname()}`,
        `URI:${buildConfigSchema().parse({}).opcua.applicationUri}`,
      ]),
    );
    const days = (Date.parse(certificate.validTo) - Date.parse(certificate.validFrom)) / 86_400_000;
    expect(Math.round(days)).toBe(30);
  });

  it("covers every address of a wildcard bind, and an IP hostname as an address", () => {
    const config = buildConfigSchema().parse({
      opcua: { host: "0.0.0.0", hostname: "gw-7.plant.example" },
    }).opcua;
    const plan = certificatePlan(config, { hostname: "gw-7", addresses: ["127.0.0.1", "10.4.0.7"] });
    expect(plan.dns).toEqual(["gw-7", "gw-7.plant.example"]);
    expect(plan.ip).toEqual(["10.4.0.7", "127.0.0.1"]);
    expect(plan.subject).toBe("/CN=smartcam-bridge@gw-7.plant.example/O=smartcam-bridge");
  });

  it("logs a refused client once with the exact accept command, counts it in /healthz, and renews its own", async () => {
    const state = tempDir("smartcam-trust-");
    const [opcuaPort, httpPort] = [await freePort(), await freePort()];
    const config = join(state, "config.yaml");
    writeFileSync(
      config,
      [
        "daemon:",
        `  stateDirectory: ${state}`,
        "mqtt:",
        "  enabled: false",
        "opcua:",
        "  host: 127.0.0.1",
        "  hostname: 127.0.0.1",
        `  port: ${opcuaPort}`,
        "http:",
        `  port: ${httpPort}`,
        "",
      ].join("\n"),
    );
    const env = { SMARTCAM_OPCUA_ENABLED: "true" };
    const daemon = spawnCli(["run", "--config", config], { env });
    running.push(daemon);
    await daemon.waitFor((record) => record.msg === "OPC UA server listening", 20_000);
    const endpoint = `opc.tcp://127.0.0.1:${opcuaPort}`;
    const clientPki = join(state, "client-pki");
    // The client hears what OPC UA lets a server say (no detail for a stranger), at once.
    for (let attempt = 0; attempt < 2; attempt++)
      expect(String(await strangerTries(endpoint, clientPki))).toMatch(/BadSecurityChecksFailed/);
    const refusal = await daemon.waitFor((record) => String(record.msg).startsWith("OPC UA client refused"));
    const thumbprint = String(refusal.thumbprint);
    expect(refusal.command).toBe(`smartcam-bridge opcua-trust accept ${thumbprint} --config ${config}`);
    expect(daemon.records().filter((record) => record.msg === refusal.msg)).toHaveLength(1);
    const health = (await (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).json()) as {
      services: Record<string, { detail: string }>;
    };
    expect(health.services.opcua?.detail).toContain("1 certificate waiting (opcua-trust list)");
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^smartcam_opcua_certificates_waiting 1$/m);

    // The command as logged, and no node-opcua warning on the terminal.
    const [, , action, print, , file] = String(refusal.command).split(" ");
    const accepted = await run(process.execPath, [
      CLI,
      "opcua-trust",
      action ?? "",
      print ?? "",
      "--config",
      file ?? "",
    ]);
    expect(accepted.stdout).toBe(`trusted ${thumbprint}\n`);
    expect(accepted.stderr).toBe("");
    expect(await strangerTries(endpoint, clientPki)).toBeUndefined();
    const after = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(after).toMatch(/^smartcam_opcua_certificates_waiting 0$/m);

    const before = await serverCertificate(endpoint);
    const renewed = await run(process.execPath, [CLI, "opcua-trust", "renew", "--config", config]);
    expect(renewed.stderr).toBe("");
    expect(renewed.stdout).toMatch(/^renewed [0-9a-f]{40} /);
    const own = readdirSync(join(state, "pki", "own", "certs"));
    expect(own.filter((name) => name.endsWith(".old"))).toHaveLength(1);
    expect(renewed.stdout).not.toContain(before.fingerprint.replace(/:/g, "").toLowerCase());
  });
});
