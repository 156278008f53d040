import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync, renameSync } from "node:fs";
import { isIP } from "node:net";
import { networkInterfaces, hostname as osHostname } from "node:os";
import { join } from "node:path";
import type { OPCUACertificateManager } from "node-opcua";
import type { Config } from "../../config/schema.js";

type OpcuaConfig = Config["opcua"];

export interface CertificatePlan {
  readonly subject: string;
  readonly applicationUri: string;
  readonly dns: readonly string[];
  readonly ip: readonly string[];
  readonly validityDays: number;
}

export interface HostNames {
  readonly hostname: string;
  readonly addresses: readonly string[];
}

/** The host's name and its IPv4 addresses, loopback included: what a wildcard bind listens on. */
export function hostNames(): HostNames {
  const addresses = Object.values(networkInterfaces())
    .flat()
    .flatMap((entry) => (entry && entry.family === "IPv4" ? [entry.address] : []));
  return { hostname: osHostname(), addresses };
}

/** A subject field value cannot carry the separators of the /K=V/ form. */
const field = (value: string) => value.replace(/[/=]/g, "-");

/**
 * What the server's certificate must say: the subject from the config, and alternative names for
 * opcua.hostname, the host's own name and every address the server listens on, so that a strict
 * client finds the name it dialled.
 */
export function certificatePlan(config: OpcuaConfig, host: HostNames = hostNames()): CertificatePlan {
  const names = [config.hostname, host.hostname];
  const listening = config.host === "0.0.0.0" ? host.addresses : [config.host];
  const ip = [...new Set([...names.filter((name) => isIP(name) === 4), ...listening])].sort();
  const dns = [...new Set(names.filter((name) => isIP(name) === 0))].sort();
  const { organization, organizationalUnit, locality, country } = config.certificate;
  const subject = [
    `/CN=${field(config.applicationName)}@${field(config.hostname)}`,
    `/O=${field(organization)}`,
    organizationalUnit ? `/OU=${field(organizationalUnit)}` : "",
    locality ? `/L=${field(locality)}` : "",
    country ? `/C=${country}` : "",
  ].join("");
  return {
    subject,
    applicationUri: config.applicationUri,
    dns,
    ip,
    validityDays: config.certificate.validityDays,
  };
}

export const certificateFile = (pki: string) => join(pki, "own", "certs", "certificate.pem");

/** What the certificate on disk lacks of the plan: empty when it covers it. */
export function certificateGaps(file: string, plan: CertificatePlan, now = new Date()): string[] {
  const certificate = new X509Certificate(readFileSync(file));
  const names = (certificate.subjectAltName ?? "").split(/,\s*/);
  const gaps = [
    ...plan.dns.filter((dns) => !names.includes(`DNS:${dns}`)).map((dns) => `host name ${dns}`),
    ...plan.ip.filter((ip) => !names.includes(`IP Address:${ip}`)).map((ip) => `address ${ip}`),
  ];
  if (!names.includes(`URI:${plan.applicationUri}`)) gaps.push(`applicationUri ${plan.applicationUri}`);
  if (new Date(certificate.validTo) <= now) gaps.push(`validity (expired ${certificate.validTo})`);
  return gaps;
}

/**
 * Makes the server's own certificate when there is none, or anew when `renew` says so (the old
 * one is kept beside it, dated). An existing certificate is never replaced on its own: clients
 * trust it by its thumbprint, and a new one would lock them out without a word.
 */
export async function ensureCertificate(
  manager: OPCUACertificateManager,
  pki: string,
  plan: CertificatePlan,
  options: { renew?: boolean; now?: Date } = {},
): Promise<"kept" | "made" | "renewed"> {
  const file = certificateFile(pki);
  const exists = existsSync(file);
  if (exists && !options.renew) return "kept";
  const now = options.now ?? new Date();
  if (exists) renameSync(file, `${file}.${now.toISOString().replace(/[:.]/g, "-")}.old`);
  await manager.createSelfSignedCertificate({
    applicationUri: plan.applicationUri,
    dns: [...plan.dns],
    ip: [...plan.ip],
    subject: plan.subject,
    outputFile: file,
    startDate: now,
    validity: plan.validityDays,
  });
  return exists ? "renewed" : "made";
}
