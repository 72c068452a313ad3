/**
 * Windows programs compiled from C with mingw-w64 (x86_64-w64-mingw32-gcc, installed by
 * install-build-tools.sh): the service host the MSI installs, and mcpwatch-winsnap, the process and
 * socket helper carried inside the win-x64 single executable. Warnings are errors; the outputs are
 * static (no mingw runtime DLLs) and stripped. Fails with TOOL_MISSING when mingw is not installed.
 */
import path from 'node:path';
import { runCommand } from './run-command.mjs';

export const MINGW_GCC = 'x86_64-w64-mingw32-gcc';

/**
 * Compiles one C file into a Windows x64 executable.
 * @param {string} source C file
 * @param {string} out executable to write
 * @param {string[]} libs Windows import libraries (without -l)
 * @returns {Promise<string>} out
 */
export async function compileWindowsProgram(source, out, libs) {
  await runCommand(MINGW_GCC, ['-O2', '-Wall', '-Wextra', '-Werror', '-static', '-s', '-o', out, source, ...libs.map((lib) => `-l${lib}`)]);
  return out;
}

/**
 * Compiles mcpwatch-winsnap (installers/windows/winsnap) into `workDir`.
 * @returns {Promise<string>} path of mcpwatch-winsnap.exe
 */
export function compileWinsnap(installersDir, workDir) {
  return compileWindowsProgram(path.join(installersDir, 'windows', 'winsnap', 'mcpwatch-winsnap.c'), path.join(workDir, 'mcpwatch-winsnap.exe'), ['iphlpapi']);
}
