import { describe, expect, it } from "vitest";
import * as sensor from "./index.ts";

describe("index", () => {
  it("exports the contract's entry points", () => {
    for (const name of [
      "ZSensorSettingsSchema",
      "parseSensorEnv",
      "renderSensorEnv",
      "resolveSensorSettings",
      "translateEre",
      "matchInterfaces",
      "checkBpfFilter",
      "computeConfigHash",
      "renderSensorManifests",
      "toYaml",
      "importSensorDaemonSet",
      "signRequest",
      "verifyRequest",
      "ZStatsReportSchema",
      "ZChunkMetadataSchema",
      "PROTOCOL_VERSION",
    ]) {
      expect(sensor).toHaveProperty(name);
    }
  });
});
