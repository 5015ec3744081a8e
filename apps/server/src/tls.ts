// HTTPS without a proxy in front: agents speak only HTTPS, so a server they
// reach directly needs a certificate of its own. Files are checked at start
// (readable, PEM, key belongs to certificate) so that a mistake is one clear
// line instead of a handshake failure on every agent, and re-read when they
// change, because certificate managers renew them in place.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { SecureContextOptions } from "node:tls";

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsMaterial {
  cert: string;
  key: string;
  subject: string;
  validTo: Date;
}

function read(variable: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new Error(`${variable}: cannot read ${file} (${code})`, { cause: error });
  }
}

/** Reads and checks a certificate (chain) and its private key; errors name the variable. */
export function loadTlsMaterial(files: TlsFiles): TlsMaterial {
  const cert = read("TAPFLEET_TLS_CERT_FILE", files.certFile);
  const key = read("TAPFLEET_TLS_KEY_FILE", files.keyFile);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (error) {
    throw new Error(`TAPFLEET_TLS_CERT_FILE: ${files.certFile} does not hold a PEM certificate`, {
      cause: error,
    });
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new Error(`TAPFLEET_TLS_KEY_FILE: ${files.keyFile} does not hold an unencrypted PEM private key`, {
      cause: error,
    });
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new Error(
      `TAPFLEET_TLS_KEY_FILE: the key in ${files.keyFile} does not belong to the certificate in ${files.certFile}`,
    );
  }
  return { cert, key, subject: certificate.subject, validTo: new Date(certificate.validTo) };
}

/**
 * Polls the files' modification times and hands new material to `apply`
 * when either changes. A bad pair is reported and the serving one kept.
 */
export function watchTlsFiles(options: {
  files: TlsFiles;
  intervalMs: number;
  apply: (context: SecureContextOptions, material: TlsMaterial) => void;
  onError: (error: Error) => void;
}): { stop(): void } {
  const stamp = () => {
    try {
      return `${statSync(options.files.certFile).mtimeMs}/${statSync(options.files.keyFile).mtimeMs}`;
    } catch {
      return "missing";
    }
  };
  let last = stamp();
  const timer = setInterval(() => {
    const now = stamp();
    if (now === last) return;
    last = now;
    try {
      const material = loadTlsMaterial(options.files);
      options.apply({ cert: material.cert, key: material.key }, material);
    } catch (error) {
      options.onError(error as Error);
    }
  }, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
