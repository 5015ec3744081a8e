// A self-signed serving certificate for 127.0.0.1. TLS is not decoration here:
// kubectl (clientcmd) only sends a kubeconfig's credentials to https servers,
// so a token-protected simulator must speak TLS for kubectl to authenticate.

import { generate } from "selfsigned";

export interface ServingCertificate {
  /** PEM certificate; it is its own CA (put it in `certificate-authority-data`). */
  cert: string;
  /** PEM private key. */
  key: string;
}

let shared: Promise<ServingCertificate> | undefined;

/** One certificate per process (EC P-256, ≈100 ms to make), shared by all simulated clusters. */
export function servingCertificate(): Promise<ServingCertificate> {
  shared ??= generate([{ name: "commonName", value: "kube-sim" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate: new Date(Date.now() - 60_000),
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 7, ip: "127.0.0.1" },
          { type: 2, value: "localhost" },
        ],
      },
    ],
  }).then((result) => ({ cert: result.cert, key: result.private }));
  return shared;
}
