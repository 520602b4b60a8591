// Two projects: `unit` (mocks only, fast, no root) and `testbed` (boots Debian 12
// hosts with systemd-nspawn; root and the testbed packages required).
const transform = { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] };
module.exports = {
  reporters: ["default", "<rootDir>/tools/jest-summary.js"],
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      transform,
      testMatch: ["<rootDir>/tests/unit/**/*.test.ts", "<rootDir>/tests/policies/**/*.test.ts"],
    },
    {
      displayName: "testbed",
      testEnvironment: "node",
      transform,
      testMatch: ["<rootDir>/tests/testbed/**/*.test.ts"],
    },
  ],
};
