// Preload (`node -r ./tools/bench/pulumi-loader.js ...`): registers ts-node the way the
// Pulumi CLI's Node.js host loads a CommonJS TypeScript program (@pulumi/pulumi 3.248,
// cmd/run/run.js): the tsconfig that Pulumi.yaml names (runtime.options.tsconfig), type
// check unless it sets noCheck, and run.js's compiler defaults under the tsconfig's own.
// So the benchmark and tests/unit/pulumi-loader.test.ts measure and run the program as
// `pulumi preview` would, without the engine (issue 10: it cannot run the command provider here).
"use strict";
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");

const root = path.resolve(__dirname, "../..");
const from = (id) => require.resolve(id, { paths: [root] });
const tsutils = require(from("@pulumi/pulumi/tsutils"));
const options = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")).runtime.options ?? {};
const tsConfigPath = path.join(root, options.tsconfig ?? "tsconfig.json");
const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
const env = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
require(from(tsnodeRequire)).register({
    compiler: from(typescriptRequire),
    transpileOnly: env ? env === "true" : compilerOptions.noCheck,
    project: tsConfigPath,
    skipProject: false,
    compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
});
