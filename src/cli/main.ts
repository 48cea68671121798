/**
 * The `sagebox` command line.
 */
import { Command, Option } from 'commander';
import { ConfigError, DEFAULT_PORT, loadConfig } from '../config/config';
import { App } from '../app/app';
import { registerLogsCommand } from './logs-command';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('sagebox')
    .description('Run SageMaker-contract containers on your own Docker engine, through the SageMaker API.')
    .showHelpAfterError();

  program
    .command('up')
    .description(`Start the server (SageMaker, SageMaker Runtime, CloudWatch Logs on one port; default 127.0.0.1:${DEFAULT_PORT}).`)
    .option('--host <host>', 'address to listen on; a non-loopback address requires your own keys in the config file', undefined)
    .addOption(new Option('--port <port>', `port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)`).argParser((v) => Number(v)))
    .option('--data-dir <dir>', 'where sagebox keeps its database, object store and job files (default ./.sagebox)')
    .option('--config <file>', 'JSON config file (default <data-dir>/config.json when present)')
    .option('--region <region>', 'AWS region used in ARNs (default us-east-1)')
    .action(async (o: { host?: string; port?: number; dataDir?: string; config?: string; region?: string }) => {
      let app: App;
      try {
        const config = loadConfig({ host: o.host, port: o.port, dataDir: o.dataDir, region: o.region }, process.env, o.config);
        app = new App(config);
      } catch (e) {
        if (e instanceof ConfigError) {
          console.error(`sagebox: ${e.message}`);
          process.exit(2);
        }
        throw e;
      }
      const { url } = await app.start();
      // The one line that says the server is ready (tests and scripts wait for it).
      console.log(`sagebox ready on ${url} (data: ${app.config.dataDir}, region: ${app.config.region}, keys: ${app.config.credentials.map((c) => c.accessKeyId).join(',')})`);
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        app.ctx.logger.info({ signal }, 'stopping');
        app.stop().then(
          () => process.exit(0),
          (err) => {
            app.ctx.logger.error({ err }, 'error while stopping');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
  registerLogsCommand(program);
  return program;
}

export function main(argv: string[]): void {
  buildProgram()
    .parseAsync(argv)
    .catch((e: unknown) => {
      console.error(`sagebox: ${(e as Error).message ?? e}`);
      process.exit(1);
    });
}
