"use client";

import { Fieldset, Select, SimpleGrid, Stack, Text, TextInput } from "@mantine/core";
import {
  FIELD_GROUPS,
  PROFILE_FIELDS,
  defaultText,
  fieldKind,
  labelOf,
  type FieldErrors,
  type FormValues,
} from "./settings-form-state";

/**
 * The settings editor, generated from the contract's variable table: a label,
 * the variable, its help text and its default as placeholder; errors at the field.
 */
export function SettingsFields({
  values,
  errors,
  onChange,
  mode = "profile",
  disabled = false,
}: {
  values: FormValues;
  errors: FieldErrors;
  onChange: (key: string, value: string) => void;
  mode?: "profile" | "override";
  disabled?: boolean;
}) {
  const specs = new Map(PROFILE_FIELDS.map((spec) => [spec.key as string, spec]));
  return (
    <Stack gap="md">
      {FIELD_GROUPS.map((group) => (
        <Fieldset key={group.title} legend={group.title} radius="md">
          <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md" verticalSpacing="sm">
            {group.keys.map((key) => {
              const spec = specs.get(key);
              if (!spec) return null;
              const fallback = defaultText(spec);
              const placeholder =
                mode === "override"
                  ? "Profile's value"
                  : fallback === ""
                    ? spec.required
                      ? "Required"
                      : "Not set"
                    : `Default: ${fallback}`;
              const label = (
                <>
                  {labelOf(spec.key)}{" "}
                  <Text span size="xs" c="dimmed" ff="monospace">
                    {spec.variable}
                  </Text>
                </>
              );
              const common = {
                label,
                description: spec.description,
                error: errors[key],
                disabled,
                withAsterisk: mode === "profile" && spec.required,
              };
              if (fieldKind(spec) === "boolean") {
                const render = (value: boolean) => spec.codec.render(value);
                return (
                  <Select
                    key={key}
                    {...common}
                    aria-label={labelOf(spec.key)}
                    data={[
                      {
                        value: "",
                        label: mode === "override" ? "Profile's value" : `Default (${fallback || "off"})`,
                      },
                      { value: render(true), label: `On (${render(true)})` },
                      { value: render(false), label: `Off (${render(false)})` },
                    ]}
                    value={values[key] ?? ""}
                    onChange={(value) => onChange(key, value ?? "")}
                    allowDeselect={false}
                  />
                );
              }
              return (
                <TextInput
                  key={key}
                  {...common}
                  aria-label={labelOf(spec.key)}
                  placeholder={placeholder}
                  value={values[key] ?? ""}
                  onChange={(event) => onChange(key, event.currentTarget.value)}
                  styles={
                    key === "bpf" || fieldKind(spec) === "list"
                      ? { input: { fontFamily: "var(--mantine-font-family-monospace)" } }
                      : undefined
                  }
                  inputMode={fieldKind(spec) === "number" ? "numeric" : undefined}
                />
              );
            })}
          </SimpleGrid>
        </Fieldset>
      ))}
    </Stack>
  );
}
