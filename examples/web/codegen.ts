// graphql-codegen's client preset: typed documents for the operations in src/operations/*.graphql,
// checked against the repository's schema.graphql. `npm run codegen` writes src/gql/ (not committed).
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: ["src/operations/**/*.graphql"],
  // An operation the schema does not have (a removed field, a renamed type) fails the run.
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: {
        // Fragment data is read through `getFragmentData(UserErrorFieldsFragmentDoc, ...)`.
        fragmentMasking: { unmaskFunctionName: "getFragmentData" },
      },
      config: {
        // Documents are plain strings: nothing from the `graphql` package is bundled.
        documentMode: "string",
        useTypeImports: true,
        enumsAsTypes: true,
        // A new custom scalar in the schema must be mapped here, or the run fails.
        strictScalars: true,
        scalars: { DateTime: "string", ID: "string" },
      },
    },
  },
};

export default config;
