// Design tokens for the whole dashboard. Components take colours, radius, spacing and fonts
// from here (through Mantine props and CSS variables) rather than hard-coding them, so the
// light and dark schemes stay consistent.
import { createTheme, type MantineColorsTuple } from "@mantine/core";

// Brand teal: a "network / capture" colour that reads well on both light and dark backgrounds.
const fleet: MantineColorsTuple = [
  "#e3fbf8",
  "#d2f2ee",
  "#a9e3dc",
  "#7cd4c9",
  "#57c7b9",
  "#3fbfaf",
  "#2fbba9",
  "#1da493",
  "#069282",
  "#007f70",
];

// Neutral slate for dark-scheme surfaces: cooler than Mantine's default greys.
const dark: MantineColorsTuple = [
  "#dde1e8",
  "#a9b0bb",
  "#8a93a1",
  "#5d6675",
  "#3b4250",
  "#2c323d",
  "#1f242d",
  "#181c23",
  "#13161c",
  "#0e1015",
];

/** Local storage key of the colour-scheme choice; shared by the provider and ColorSchemeScript. */
export const colorSchemeStorageKey = "tapfleet-color-scheme";

const systemFonts =
  'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif';
// Fonts come from the system: the build machines have no network for webfonts.
const monoFonts = 'ui-monospace, SFMono-Regular, "JetBrains Mono", Menlo, Consolas, monospace';

export const theme = createTheme({
  primaryColor: "fleet",
  primaryShade: { light: 8, dark: 6 },
  colors: { fleet, dark },
  fontFamily: systemFonts,
  fontFamilyMonospace: monoFonts,
  headings: { fontFamily: systemFonts, fontWeight: "650" },
  defaultRadius: "md",
  radius: { xs: "2px", sm: "4px", md: "6px", lg: "10px", xl: "16px" },
  spacing: { xs: "8px", sm: "12px", md: "16px", lg: "24px", xl: "32px" },
  cursorType: "pointer",
  components: {
    Table: { defaultProps: { verticalSpacing: "sm", highlightOnHover: true } },
    Badge: { defaultProps: { variant: "light" } },
    Modal: { defaultProps: { centered: true, closeButtonProps: { "aria-label": "Close" } } },
    // Mantine's default name, "Toggle password visibility", contains "password", so a
    // getByLabel("Password") in tests (and some screen-reader field lists) would find two things.
    PasswordInput: {
      defaultProps: { visibilityToggleButtonProps: { "aria-label": "Show typed characters" } },
    },
  },
});
