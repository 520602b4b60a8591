// Projects: `unit` (mocks, plus step shell run in temp folders as root) and
// `testbed` (boots Debian 12 hosts with systemd-nspawn, and Debian 12 virtual
// machines with qemu for what needs a kernel of its own; root and the testbed
// packages).
const transform = { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] };
module.exports = {
  // Both cores: jest's default (cores - 1) runs the unit suite on one worker
  // here. The testbed project runs --runInBand (one testbed per machine).
  maxWorkers: "100%",
  // A whole-stack plan takes a few seconds on a busy 2-core machine: jest's 5 s default made such tests flaky.
  // (A global option: jest ignores it inside a project. Testbed tests set their own, longer ones.)
  testTimeout: 30000,
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
      testPathIgnorePatterns: ["/node_modules/", "<rootDir>/tests/testbed/slow/"],
    },
    {
      // Real-host runs too slow for CI (the NVIDIA module's DKMS build under emulation): run by hand, recorded in docs.
      displayName: "testbed-slow",
      testEnvironment: "node",
      transform,
      testMatch: ["<rootDir>/tests/testbed/slow/**/*.test.ts"],
    },
  ],
};
