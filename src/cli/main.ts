#!/usr/bin/env node
/**
 * The `password-resources` command: `serve`, and user commands that work on
 * the database directly (like Keycloak's kcadm). Each prints one line; errors
 * print one line to stderr and exit non-zero.
 */
// First: sizes libuv's threadpool before anything uses it.
import './threadpool';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/env';
import { PasswordResourcesError } from '../errors';
import { OptionsError } from '../options';
import { addImportCommand } from './import-command';
import { addServeCommand } from './serve-command';
import { CliError } from './support';
import { addUserCommands } from './user-commands';

function describe(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ConfigError || error instanceof OptionsError) return { message: error.message, exitCode: 2 };
  if (error instanceof PasswordResourcesError) {
    const violations = 'violations' in error ? (error.violations as { message: string }[]).map((v) => v.message).join(' ') : '';
    return { message: `${error.message}${violations ? ` ${violations}` : ''}`, exitCode: 1 };
  }
  if (error instanceof Error && /Mongo|ECONNREFUSED/.test(`${error.name} ${error.message}`)) {
    return { message: `cannot reach MongoDB at MONGODB_URI: ${error.message.split('\n')[0] ?? ''}`, exitCode: 1 };
  }
  return { message: error instanceof Error ? error.message : String(error), exitCode: 1 };
}

export function buildProgram(env: NodeJS.ProcessEnv): Command {
  const program = new Command('password-resources')
    .description('Password resources for OpenID Connect realms')
    .showHelpAfterError()
    .exitOverride();
  addServeCommand(program, env);
  addUserCommands(program, env);
  addImportCommand(program, env);
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram(process.env).parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander printed its own message (usage, missing option); help and version exit 0.
      process.exitCode = error.exitCode;
      return;
    }
    const { message, exitCode } = describe(error);
    process.stderr.write(`password-resources: ${message}\n`);
    process.exitCode = exitCode;
  }
}

if (require.main === module) void main();
