// @ts-check
import effect from "@effect/eslint-plugin"
import js from "@eslint/js"
import tseslint from "typescript-eslint"

export default tseslint.config(
  // what git ignores is not ours to lint: dependencies, tsc output, the bundled twitch-auth
  { ignores: ["**/node_modules/**", "**/build/**", "**/dist/**", "coverage/**", "packages/cli/bin/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts", "**/*.js"],
    plugins: { "@effect": effect },
    rules: {
      // the formatter (dprint, as the Effect monorepo configures it): `pnpm lint --fix` applies it
      "@effect/dprint": [
        "error",
        {
          config: {
            indentWidth: 2,
            lineWidth: 120,
            semiColons: "asi",
            quoteStyle: "alwaysDouble",
            trailingCommas: "never",
            operatorPosition: "maintain",
            "arrowFunction.useParentheses": "force"
          }
        }
      ]
    }
  },
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/ban-ts-comment": ["error", { "ts-expect-error": "allow-with-description" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/no-empty-object-type": "off",
      "no-restricted-syntax": [
        "error",
        {
          selector: "ThrowStatement",
          message: "Fail with a typed error instead of throwing."
        },
        {
          selector: "TSAsExpression:not([typeAnnotation.type='TSTypeReference'][typeAnnotation.typeName.name='const'])",
          message: "No `as` casts: decode with Schema or narrow the type instead."
        }
      ]
    }
  },
  {
    files: ["**/test/**/*.ts"],
    rules: {
      "no-restricted-syntax": "off"
    }
  },
  {
    // the consumer test's plain JavaScript programs, run by Node as a user's would be
    files: ["scripts/consumer/*.mjs", "scripts/consumer/*.cjs"],
    languageOptions: { globals: { console: "readonly", process: "readonly", require: "readonly" } },
    rules: { "@typescript-eslint/no-require-imports": "off" }
  }
)
