/**
 * `npm start`: builds what is older than its sources, then runs the server in this very
 * process. There is no second process to leave behind: Ctrl-C or SIGTERM to `npm start`
 * reaches the server itself, which shuts down gracefully (src/server/main.ts).
 * A signal during the build stops the build instead.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PARTS, staleParts } from './build-state.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

// npm runs this through `sh -c`, and on SIGTERM npm signals only that shell, which dies
// without passing it on. Losing the parent is therefore taken as the signal itself.
const parent = process.ppid;
const orphanWatch = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(orphanWatch);
  process.kill(process.pid, 'SIGTERM');
}, 250);
orphanWatch.unref();

/** Runs `npm run build:<part>`; a signal while it builds stops the build and this process. */
function build(part) {
  const npm = process.env.npm_execpath;
  const [command, args] = npm
    ? [process.execPath, [npm, 'run', '--silent', `build:${part}`]]
    : ['npm', ['run', '--silent', `build:${part}`]];
  // A group of its own, so a signal stops npm, its shell and the compiler alike.
  const child = spawn(command, args, { cwd: root, stdio: 'inherit', detached: true });
  const stop = (signal) => process.kill(-child.pid, signal);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (code === 0) resolve();
      else reject(new Error(signal ? `stopped by ${signal}` : `exit code ${code}`));
    });
  });
}

for (const part of staleParts(root)) {
  process.stdout.write(`building the ${part} (its sources are newer than ${PARTS[part].output})\n`);
  try {
    await build(part);
  } catch (err) {
    process.stderr.write(
      `carechat could not be built: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  }
}

await import(pathToFileURL(join(root, PARTS.server.output)).href);
