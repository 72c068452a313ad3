/**
 * Entry point of the agent's single executable. Prints the stamped build on `--version`
 * (`mcpwatch-agent --version`; bundle-agent.mjs's banner publishes it as `globalThis.__MCPWATCH_BUILD__`
 * for the agent's heartbeat), and otherwise hands the arguments to the agent CLI's `main(argv)` (resolved by the
 * bundler to agent/dist/cli.js). Exit code: main's result; 70 if main throws (it should not).
 */
import { main } from 'mcpwatch-agent-cli';

/* global __MCPWATCH_BUILD__ */
/** @type {{version: string, commit: string, nodeVersion: string, target: string}} */
const build = { ...__MCPWATCH_BUILD__, target: `${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}` };

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`mcpwatch-agent ${build.version} (commit ${build.commit}, ${build.target}, node ${process.versions.node})\n`);
} else {
  main(argv).then(
    (code) => { process.exitCode = typeof code === 'number' ? code : 0; },
    (error) => {
      process.stderr.write(`mcpwatch-agent: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 70;
    },
  );
}
