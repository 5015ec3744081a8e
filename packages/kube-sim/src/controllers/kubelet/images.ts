// Image names as the kubelet reports and matches them.

import { createHash } from "node:crypto";

/** `tapfleet/agent:1.2` → `tapfleet/agent`. */
export function imageRepository(image: string): string {
  const at = image.indexOf("@");
  const noDigest = at >= 0 ? image.slice(0, at) : image;
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.indexOf(":", slash + 1);
  return colon >= 0 ? noDigest.slice(0, colon) : noDigest;
}

/** The `imageID` a container status shows: the pulled image by digest. */
export function imageId(image: string): string {
  const digest = createHash("sha256").update(image).digest("hex");
  const repo = image.replace(/[:@].*$/, "");
  const qualified = repo.includes("/") ? repo : `library/${repo}`;
  return `docker.io/${qualified}@sha256:${digest}`;
}
