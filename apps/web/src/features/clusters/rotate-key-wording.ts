// What the rotate-key dialog says about the new key and the sensor's Secret, from the rotation's
// answer: whether Tapfleet wrote the key into the Secret of the sensor it manages, or why not.

/** The rotation's word on the sensor's key Secret: null when Tapfleet manages no sensor in the cluster. */
export interface KeySecretOutcome {
  written: string | null;
  skipped: string | null;
}

/** The "shown only once" warning; `retireAt` is the old keys' end, already formatted. */
export function rotatedKeyWarning(outcome: KeySecretOutcome | null, retireAt: string): string {
  if (outcome?.written)
    return (
      `Tapfleet wrote this key into ${outcome.written}; the sensor's pods read it when they next start ` +
      `(the pods of a sensor Tapfleet installed restart now). The old keys are accepted until ${retireAt}. ` +
      "Tapfleet shows the key only this once."
    );
  return (
    `Update the sensors' Secret with this key before ${retireAt}, when the old keys stop being accepted ` +
    "(the command below replaces it), then restart the sensor's pods. Tapfleet shows the key only this once."
  );
}

/** Why the sensor's Secret still holds the old key, and what to do; null when nothing is to be done. */
export function keySecretNotUpdated(outcome: KeySecretOutcome | null): string | null {
  if (!outcome?.skipped) return null;
  const why = outcome.skipped.trim().replace(/[.\s]+$/, "");
  return (
    `The sensor's Secret was not updated. ${why.charAt(0).toUpperCase()}${why.slice(1)}. If the cluster could not be asked, enable or reconnect ` +
    "its connection and rotate again; or update the Secret yourself with the kubectl command below and " +
    "restart the sensor's pods."
  );
}
