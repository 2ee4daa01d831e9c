/** The user commands (like Keycloak's kcadm): create, set a password, list, enable or disable, unlock. */
import type { Command } from 'commander';
import { loadConfig } from '../config/env';
import { userRepresentation } from '../http/admin/users';
import { CliError, cliActor, count, passwordFrom, print, userNamed, withServices } from './support';

/** `create-user`: an enabled user, with a password or without. */
function addCreateUser(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command('create-user')
    .description('create an enabled user in a realm')
    .requiredOption('--realm <realm>', 'the realm')
    .requiredOption('--username <username>', 'the username (stored lower-case)')
    .option('--email <email>', 'the email (stored lower-case)')
    .option('--id <subject>', "the user's id: the identity provider's `sub` (default: a new UUID)")
    .option('--password <password>', 'the password (prefer --password-stdin: shell history keeps arguments)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--temporary', 'the user must choose a new password (UPDATE_PASSWORD)')
    .option('--json', 'print the user as JSON')
    .action(async (opts: { realm: string; username: string; email?: string; id?: string; password?: string; passwordStdin?: boolean; temporary?: boolean; json?: boolean }) => {
      const config = loadConfig(env, { requireRealms: false });
      const password = opts.password === undefined && opts.passwordStdin !== true ? undefined : await passwordFrom(opts.password, opts.passwordStdin, '--password');
      const user = await withServices(config, opts.realm, ({ admin }) =>
        admin.createUser({ realm: opts.realm, username: opts.username, email: opts.email, id: opts.id, password, temporary: opts.temporary === true }, cliActor()),
      );
      if (opts.json) print(JSON.stringify({ id: user.id, realm: user.realm, username: user.username, email: user.email ?? null, enabled: user.enabled, requiredActions: user.requiredActions }));
      else print(`created user "${user.username}" with id ${user.id} in realm "${user.realm}"`);
    });
}

/** `set-password`: an administrator's reset, given, read from stdin or generated. */
function addSetPassword(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command('set-password')
    .description("set a user's password as an administrator (like kcadm.sh set-password)")
    .requiredOption('--realm <realm>', 'the realm')
    .requiredOption('--username <username>', 'the username')
    .option('--new-password <password>', 'the new password (prefer --password-stdin)')
    .option('--password-stdin', 'read the new password from standard input')
    .option('--generate', 'make a random password that meets the policy, and print it once')
    .option('--temporary', 'the user must choose a new password (UPDATE_PASSWORD)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { realm: string; username: string; newPassword?: string; passwordStdin?: boolean; generate?: boolean; temporary?: boolean; json?: boolean }) => {
      const config = loadConfig(env, { requireRealms: false });
      if (opts.generate === true && (opts.newPassword !== undefined || opts.passwordStdin === true)) {
        throw new CliError('give exactly one of --new-password, --password-stdin or --generate', 2);
      }
      const password = opts.generate === true ? undefined : await passwordFrom(opts.newPassword, opts.passwordStdin, '--new-password');
      const temporary = opts.temporary === true;
      const { user, generated } = await withServices(config, opts.realm, async ({ accounts, admin }) => {
        const found = await userNamed(accounts, opts.realm, opts.username);
        const made = await admin.resetPassword(opts.realm, found.id, { value: password, generate: opts.generate === true, temporary }, cliActor());
        return { user: found, generated: made };
      });
      if (opts.json) print(JSON.stringify({ id: user.id, realm: opts.realm, username: user.username, temporary, ...(generated === undefined ? {} : { password: generated }) }));
      else if (generated !== undefined) print(generated);
      else print(`password of "${user.username}" in realm "${opts.realm}" set${temporary ? ' (temporary)' : ''}`);
    });
}

/** `get-users`: a realm's users, never their credentials. */
function addGetUsers(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command('get-users')
    .description("list a realm's users (like kcadm.sh get users), never their credentials")
    .requiredOption('--realm <realm>', 'the realm')
    .option('--username <username>', 'only this username (exact)')
    .option('--search <text>', 'username, email or name starting with this (*text* anywhere)')
    .option('--first <n>', 'skip this many', '0')
    .option('--max <n>', 'at most this many', '100')
    .option('--json', "print Keycloak's user representations as a JSON array")
    .action(async (opts: { realm: string; username?: string; search?: string; first: string; max: string; json?: boolean }) => {
      const config = loadConfig(env, { requireRealms: false });
      const page = { first: count('--first', opts.first, Number.MAX_SAFE_INTEGER), max: count('--max', opts.max, 10_000) };
      const search = opts.search;
      const users = await withServices(config, opts.realm, ({ admin }) =>
        admin.findUsers(
          opts.realm,
          {
            username: opts.username === undefined ? undefined : { value: opts.username, mode: 'exact' },
            any: search === undefined ? undefined : /^\*.+\*$/.test(search) ? { value: search.slice(1, -1), mode: 'infix' } : { value: search.replace(/\*$/, ''), mode: 'prefix' },
          },
          page,
        ),
      );
      if (opts.json) {
        print(JSON.stringify(users.map(userRepresentation)));
        return;
      }
      for (const user of users) {
        print([user.id, user.username, user.email ?? '-', user.enabled ? 'enabled' : 'disabled', user.requiredActions.join(',') || '-'].join('\t'));
      }
    });
}

/** `enable` and `disable`. */
function addEnableDisable(program: Command, env: NodeJS.ProcessEnv): void {
  for (const [name, enabled] of [['enable', true], ['disable', false]] as const) {
    program
      .command(name)
      .description(enabled ? 'enable a user (and forget their login failures, as Keycloak does)' : 'disable a user: their tokens and passwords stop working')
      .requiredOption('--realm <realm>', 'the realm')
      .requiredOption('--username <username>', 'the username')
      .option('--json', 'print the user as JSON')
      .action(async (opts: { realm: string; username: string; json?: boolean }) => {
        const config = loadConfig(env, { requireRealms: false });
        const user = await withServices(config, opts.realm, async ({ accounts, admin }) => {
          const found = await userNamed(accounts, opts.realm, opts.username);
          return admin.updateUser(opts.realm, found.id, { enabled }, cliActor());
        });
        if (opts.json) print(JSON.stringify(userRepresentation(user)));
        else print(`user "${user.username}" in realm "${opts.realm}" ${enabled ? 'enabled' : 'disabled'}`);
      });
  }
}

/** `unlock`: forget login failures, end a temporary lockout. */
function addUnlock(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command('unlock')
    .description("forget a user's login failures and end a temporary lockout (a permanent lockout needs enable)")
    .requiredOption('--realm <realm>', 'the realm')
    .requiredOption('--username <username>', 'the username')
    .option('--json', 'print the brute force state after it as JSON')
    .action(async (opts: { realm: string; username: string; json?: boolean }) => {
      const config = loadConfig(env, { requireRealms: false });
      const { user, status } = await withServices(config, opts.realm, async ({ accounts, admin }) => {
        const found = await userNamed(accounts, opts.realm, opts.username);
        await admin.clearBruteForce(opts.realm, found.id, cliActor());
        return { user: found, status: await admin.bruteForceStatus(opts.realm, found.id) };
      });
      if (opts.json) print(JSON.stringify({ id: user.id, username: user.username, numFailures: status.numFailures, disabled: status.disabled }));
      else print(`user "${user.username}" in realm "${opts.realm}" unlocked${user.enabled ? '' : ' (still disabled: run enable)'}`);
    });
}

/** Every user command. */
export function addUserCommands(program: Command, env: NodeJS.ProcessEnv): void {
  addCreateUser(program, env);
  addSetPassword(program, env);
  addGetUsers(program, env);
  addEnableDisable(program, env);
  addUnlock(program, env);
}
