// Capturing from a pcap file instead of the node's interfaces: with
// TAPFLEET_CAPTURE_REPLAY_FILE set, the agent sees one interface (named by
// OSSENSOR_NETWORK_DEVICE, else "replay0"), always up, whose packets are the
// file's, replayed by the capture thread through libpcap's offline reader at
// the pace of their timestamps, in a loop (capture-replay-thread.ts). Needs
// no capture privilege. Everything after the capture thread (counting,
// chunks, reports, snapshots) is the same as for a live interface.

import { existsSync } from "node:fs";
import path from "node:path";
import type { Capture } from "./capture.ts";
import type { ListInterfaces } from "./interfaces.ts";

export const REPLAY_FILE_VARIABLE = "TAPFLEET_CAPTURE_REPLAY_FILE";
const DEFAULT_REPLAY_INTERFACE = "replay0";

export interface CaptureReplay {
  file: string;
  /** The one interface the agent sees. */
  interfaceName: string;
  listInterfaces: ListInterfaces;
  /** The capture with every session opened on `interfaceName` replaying the file. */
  wrap(capture: Capture): Capture;
}

export type CaptureReplayOption =
  /** `settingsEnv`: the environment without the replay variable, for the settings parser (it is not a sensor setting). */
  | { ok: true; replay: CaptureReplay | undefined; settingsEnv: Readonly<Record<string, string | undefined>> }
  | { ok: false; line: string };

/** Reads the replay option from the environment; a file that is not there is refused naming the variable. */
export function captureReplayFromEnv(env: Readonly<Record<string, string | undefined>>): CaptureReplayOption {
  const { [REPLAY_FILE_VARIABLE]: given, ...settingsEnv } = env;
  if (given === undefined || given === "") return { ok: true, replay: undefined, settingsEnv };
  const file = path.resolve(given);
  if (!existsSync(file))
    return { ok: false, line: `invalid settings: ${REPLAY_FILE_VARIABLE}: no file at ${file}` };
  const device = env.OSSENSOR_NETWORK_DEVICE;
  const interfaceName = device === undefined || device === "" ? DEFAULT_REPLAY_INTERFACE : device;
  return {
    ok: true,
    settingsEnv,
    replay: {
      file,
      interfaceName,
      listInterfaces: () =>
        Promise.resolve([{ name: interfaceName, loopback: false, up: true, ifindex: 1, carrierChanges: 0 }]),
      wrap: (capture) => ({
        get libraryVersion() {
          return `${capture.libraryVersion} (replaying ${file})`;
        },
        open: (request, handlers) =>
          capture.open(
            request.device === interfaceName ? { ...request, replayFile: file } : request,
            handlers,
          ),
        close: (session) => capture.close(session),
        flush: () => capture.flush(),
        terminate: () => capture.terminate(),
      }),
    },
  };
}
