// Installers tests: unit tests (tests/unit) and tests over the artifacts `npm test` builds first
// (tests/integration; see the "test" script and tests/helpers/package-output.ts).
module.exports = { ...require('../jest.preset.cjs'), testTimeout: 240000 };
