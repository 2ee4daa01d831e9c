/** `serve`: the standalone server, stopped gracefully on SIGTERM and SIGINT. */
import type { Command } from 'commander';
import pino from 'pino';
import { loadConfig } from '../config/env';
import { startServer } from '../server';

/** Run the standalone server until a signal asks it to stop. */
export function addServeCommand(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command('serve')
    .description('run the standalone server (configured by the environment; see README)')
    .action(async () => {
      const config = loadConfig(env);
      const logger = pino({ level: config.logLevel });
      const running = await startServer(config, logger);
      const stop = (signal: string): void => {
        logger.info({ signal }, 'shutting down: finishing in-flight requests');
        running.close().then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
}
