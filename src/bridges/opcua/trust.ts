import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { OPCUACertificateManager } from "node-opcua";
import type { Config } from "../../config/schema.js";
import { certificateFile, certificatePlan, ensureCertificate } from "./certificate.js";
// Before any node-opcua warning: commands print none that do not apply.
import "./opcua-log.js";

export interface CertificateEntry {
  readonly status: "trusted" | "rejected";
  /** SHA-1 of the DER bytes, in hex: what OPC UA tools show as the thumbprint. */
  readonly thumbprint: string;
  readonly file: string;
}

function der(file: string): Buffer {
  const bytes = readFileSync(file);
  const text = bytes.toString("latin1");
  const pem = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
  return pem?.[1] ? Buffer.from(pem[1].replace(/\s+/g, ""), "base64") : bytes;
}

function entries(folder: string, status: CertificateEntry["status"]): CertificateEntry[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((name) => /\.(pem|der)$/i.test(name))
    .map((name) => {
      const file = join(folder, name);
      return { status, thumbprint: createHash("sha1").update(der(file)).digest("hex"), file };
    });
}

/** Client certificates the server knows: trusted, and rejected (unknown ones land there on first contact). */
export function listCertificates(pki: string): CertificateEntry[] {
  return [
    ...entries(join(pki, "trusted", "certs"), "trusted"),
    ...entries(join(pki, "rejected"), "rejected"),
  ];
}

/**
 * Moves a certificate by thumbprint through node-opcua's own certificate manager, so that a running
 * server (which watches the folders) sees the change without a restart.
 */
export async function setTrust(pki: string, thumbprint: string, trust: boolean): Promise<CertificateEntry> {
  const wanted = thumbprint.toLowerCase().replace(/[^0-9a-f]/g, "");
  if (wanted.length < 8) throw new Error("give at least 8 hex digits of the thumbprint");
  const found = listCertificates(pki).filter((entry) => entry.thumbprint.startsWith(wanted));
  if (found.length === 0) throw new Error(`no certificate with thumbprint ${thumbprint} in ${pki}`);
  if (found.length > 1)
    throw new Error(`thumbprint ${thumbprint} matches ${found.length} certificates: give more digits`);
  const entry = found[0] as CertificateEntry;
  const manager = new OPCUACertificateManager({ rootFolder: pki, disableFileWatchers: true });
  await manager.initialize();
  try {
    if (trust) await manager.trustCertificate(der(entry.file));
    else await manager.rejectCertificate(der(entry.file));
  } finally {
    await manager.dispose();
  }
  return entry;
}

/** Makes the server's own certificate anew from the config (the old one kept beside it), as the daemon would. */
export async function renewServerCertificate(
  pki: string,
  config: Config["opcua"],
): Promise<CertificateEntry> {
  const manager = new OPCUACertificateManager({ rootFolder: pki, name: "PKI", disableFileWatchers: true });
  await manager.initialize();
  try {
    await ensureCertificate(manager, pki, certificatePlan(config), { renew: true });
  } finally {
    await manager.dispose();
  }
  const file = certificateFile(pki);
  return { status: "trusted", thumbprint: createHash("sha1").update(der(file)).digest("hex"), file };
}
