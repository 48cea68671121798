/**
 * Restarts the Docker engine for the engine-restart tests (test/serial/, run
 * alone after every other suite: a restart stops every container).
 *
 * SAGEBOX_TEST_ENGINE_RESTART, when set, is a shell command that does it
 * (e.g. `systemctl restart docker`). Otherwise: a dockerd under systemd is
 * restarted with systemctl; a dockerd started by hand (as .ci/run does) is sent
 * SIGTERM, which stops its containers as a shutdown does, and started again with
 * the same command line, its output appended to /var/log/dockerd.log.
 */
import { execFileSync, execSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import Dockerode from 'dockerode';

const PID_FILE = '/var/run/docker.pid';

async function until(what: string, ok: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  for (const end = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 200))) {
    if (await ok()) return;
    if (Date.now() > end) throw new Error(`restarting the Docker engine: ${what} did not happen within ${timeoutMs / 1000} s`);
  }
}

const answers = (docker: Dockerode) => async (): Promise<boolean> => docker.ping().then(() => true, () => false);

export async function restartEngine(): Promise<void> {
  const docker = new Dockerode();
  const custom = process.env.SAGEBOX_TEST_ENGINE_RESTART;
  if (custom) {
    execSync(custom, { stdio: 'inherit' });
  } else {
    let pid: number;
    let argv: string[];
    try {
      pid = Number(fs.readFileSync(PID_FILE, 'utf8').trim());
      argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch (err) {
      throw new Error(
        `Cannot restart the Docker engine: no running dockerd found through ${PID_FILE} (${(err as Error).message}). ` +
          'Run the tests where dockerd runs on this machine (as .ci/run sets up), or set SAGEBOX_TEST_ENGINE_RESTART to a command that restarts it.',
      );
    }
    const cgroup = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    if (/docker\.service/.test(cgroup)) {
      execFileSync('systemctl', ['restart', 'docker'], { stdio: 'inherit' });
    } else {
      try {
        process.kill(pid, 'SIGTERM');
      } catch (err) {
        throw new Error(`Cannot restart the Docker engine: signalling dockerd (pid ${pid}) failed: ${(err as Error).message}. Run the tests as root, or set SAGEBOX_TEST_ENGINE_RESTART.`);
      }
      await until('dockerd exiting', () => !fs.existsSync(`/proc/${pid}`), 90_000);
      const log = fs.openSync('/var/log/dockerd.log', 'a');
      spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log] }).unref();
      fs.closeSync(log);
    }
  }
  await until('the engine answering again', answers(docker), 90_000);
}
