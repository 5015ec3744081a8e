// The kubectl command the demo shows for each simulated cluster: ready to copy
// into sh, the kubeconfig file's path quoted where it has to be.

import { describe, expect, it } from "vitest";
import { kubectlCommandFor } from "../src/demo/demo.ts";

describe("kubectlCommandFor", () => {
  it.each([
    [
      "/var/lib/tapfleet/demo/demo-east.kubeconfig",
      "kubectl --kubeconfig /var/lib/tapfleet/demo/demo-east.kubeconfig -n tapfleet-sensor get pods",
    ],
    [
      "/home/a user/demo/demo-east.kubeconfig",
      "kubectl --kubeconfig '/home/a user/demo/demo-east.kubeconfig' -n tapfleet-sensor get pods",
    ],
    [
      "/tmp/it's/x.kubeconfig",
      "kubectl --kubeconfig '/tmp/it'\\''s/x.kubeconfig' -n tapfleet-sensor get pods",
    ],
  ])("%s", (file, command) => expect(kubectlCommandFor(file)).toBe(command));
});
