// What differs between two profile settings, setting by setting, in the
// contract's terms (the SENSOR_VARIABLES table), never as text.
//
// Defaults count: a setting left unset in one and set to its default in the
// other is the same effective value, so it is not a difference. The agent
// cannot tell them apart, and a rollout would change nothing.

import { CLUSTER_SETTING_KEYS, SENSOR_VARIABLES, type SensorSettingKey } from "@tapfleet/sensor/settings";

export type SettingValue = string | number | boolean | string[];

/** One setting of the profile table: the settings key, its variable, its default. */
export interface ProfileSettingSpec {
  setting: SensorSettingKey;
  variable: string;
  default: SettingValue | null;
  description: string;
}

const CLUSTER_KEYS: ReadonlySet<string> = new Set(CLUSTER_SETTING_KEYS);

/** The settings a profile holds, in the contract's order. */
export const PROFILE_SETTING_SPECS: readonly ProfileSettingSpec[] = SENSOR_VARIABLES.filter(
  (spec) => !CLUSTER_KEYS.has(spec.key),
).map((spec) => ({
  setting: spec.key,
  variable: spec.variable,
  default: spec.default ?? null,
  description: spec.description,
}));

export interface SettingChange {
  setting: SensorSettingKey;
  variable: string;
  /** added: unset before, set after; removed: set before, unset after; changed: set in both. */
  kind: "added" | "changed" | "removed";
  /** The value as stored; null when unset. */
  from: SettingValue | null;
  to: SettingValue | null;
  /** The default, which an unset value means; null when the setting has none. */
  default: SettingValue | null;
}

export type PartialSettings = Readonly<Partial<Record<SensorSettingKey, unknown>>>;

export function sameSettingValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => item === b[i]);
  return a === b;
}

/**
 * The differences from `from` to `to`, in the contract's order. Pure.
 * Settings whose effective values are equal (defaults filled in) are not
 * differences; see the module comment.
 */
export function diffProfileSettings(options: {
  from: PartialSettings;
  to: PartialSettings;
}): SettingChange[] {
  const changes: SettingChange[] = [];
  for (const spec of PROFILE_SETTING_SPECS) {
    const before = options.from[spec.setting] as SettingValue | undefined;
    const after = options.to[spec.setting] as SettingValue | undefined;
    if (sameSettingValue(before ?? spec.default, after ?? spec.default)) continue;
    changes.push({
      setting: spec.setting,
      variable: spec.variable,
      kind: before === undefined ? "added" : after === undefined ? "removed" : "changed",
      from: before ?? null,
      to: after ?? null,
      default: spec.default,
    });
  }
  return changes;
}

export type SettingSource =
  | { kind: "override"; clusterId: string; label: string }
  | { kind: "profile"; revision: number; label: string }
  | { kind: "default"; label: string }
  | { kind: "unset"; label: string };

export interface EffectiveSetting {
  setting: SensorSettingKey;
  variable: string;
  /** The value the agent runs with; null when the setting is unset and has no default. */
  value: SettingValue | null;
  source: SettingSource;
  /** The profile's value when an override replaces it (null: the profile leaves it unset). */
  overridden: SettingValue | null;
}

/**
 * Every profile setting as a cluster's agents would get it: the override's
 * value, else the revision's, else the default, each with where it came from
 * ("override for prod-eu", "profile r3", "default"). Pure.
 */
export function effectiveSettings(options: {
  revision: { number: number; settings: PartialSettings };
  override?: { clusterId: string; settings: PartialSettings } | null | undefined;
}): EffectiveSetting[] {
  const { revision, override } = options;
  return PROFILE_SETTING_SPECS.map((spec) => {
    const fromProfile = revision.settings[spec.setting] as SettingValue | undefined;
    const fromOverride = override?.settings[spec.setting] as SettingValue | undefined;
    const base = { setting: spec.setting, variable: spec.variable };
    if (override && fromOverride !== undefined) {
      return {
        ...base,
        value: fromOverride,
        source: {
          kind: "override",
          clusterId: override.clusterId,
          label: `override for ${override.clusterId}`,
        },
        overridden: fromProfile ?? null,
      };
    }
    if (fromProfile !== undefined) {
      return {
        ...base,
        value: fromProfile,
        source: { kind: "profile", revision: revision.number, label: `profile r${revision.number}` },
        overridden: null,
      };
    }
    if (spec.default !== null) {
      return {
        ...base,
        value: spec.default,
        source: { kind: "default", label: "default" },
        overridden: null,
      };
    }
    return { ...base, value: null, source: { kind: "unset", label: "not set" }, overridden: null };
  });
}
