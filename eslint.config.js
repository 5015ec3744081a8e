// One type-aware lint configuration for the whole repository.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "**/.next/**",
      "**/dist/**",
      "**/generated/**",
      "**/next-env.d.ts",
      ".data/**",
      ".test-data/**",
      "test-results/**",
      "playwright-report/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: [
            "*.js",
            "*.mjs",
            "*.cjs",
            "scripts/*.mjs",
            "e2e/support/*.mjs",
            "packages/agent/bin/*.mjs",
          ],
          // Every file above gets a program of its own; the default limit is 8.
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 16,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read the environment only in an app's env.ts." },
      ],
    },
  },
  {
    // Places allowed to read the environment: each app's env.ts, configs, scripts and tests.
    files: [
      "**/env.ts",
      "*.config.*",
      "scripts/**",
      "**/test/**",
      "**/*.test.ts",
      "e2e/**",
      "**/bench/**",
      "packages/*/src/cli.ts",
    ],
    rules: { "no-restricted-properties": "off" },
  },
  {
    // Routers stay thin: a query is a core function, to which a router passes ctx.db.
    files: ["packages/api/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector:
            "MemberExpression[object.type='MemberExpression'][object.object.name='ctx'][object.property.name='db']",
          message: "No database queries in packages/api: call a packages/core function and pass it ctx.db.",
        },
      ],
    },
  },
  {
    // One SSE stream per browser tab: a page follows a live feed with useLiveFeed (lib/live-hub.ts),
    // which carries it on the tab's live.stream. The pod log is a stream of its own on purpose.
    files: ["apps/web/src/**/*.ts", "apps/web/src/**/*.tsx"],
    ignores: ["apps/web/src/features/sensor-detail/pod-log-viewer.tsx"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [
            {
              name: "@trpc/tanstack-react-query",
              importNames: ["useSubscription"],
              message:
                "Follow a live feed with useLiveFeed from @/lib/use-live-feed (one SSE stream per tab); add a new feed to FEEDS in packages/api/src/routers/live.ts.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: globals.node },
  },
  {
    files: ["**/*.test.ts", "e2e/**"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
    },
  },
);
