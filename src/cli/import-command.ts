/** `import-keycloak`: the users of a Keycloak realm export, with their passwords as Keycloak hashed them. */
import type { Command } from 'commander';
import { loadConfig } from '../config/env';
import { KeycloakExportError, importKeycloakUsers, readKeycloakExport } from './import-keycloak';
import { CliError, print, readJsonFile, withUserStore } from './support';

/** Import a realm export into the realm of that name. */
export function addImportCommand(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command('import-keycloak')
    .description("import the users of a Keycloak realm export (kc.sh export --realm R --users same_file) into the realm of that name, with their passwords as Keycloak hashed them")
    .argument('<realm-export.json>', 'the export file')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const config = loadConfig(env, { requireRealms: false });
      const document = await readJsonFile(file);
      let realmExport;
      try {
        realmExport = readKeycloakExport(document);
      } catch (error) {
        if (error instanceof KeycloakExportError) throw new CliError(`${file}: ${error.message}`, 2);
        throw error;
      }
      const served = Object.keys(config.resources.realms);
      if (served.length > 0 && !served.includes(realmExport.realm)) {
        throw new CliError(`${file}: the export's realm "${realmExport.realm}" is not in REALMS (${served.join(', ')})`, 2);
      }
      const report = await withUserStore(config, (store) => importKeycloakUsers(realmExport, store));
      // Warnings on stderr, one line each; the result on stdout.
      for (const note of report.notApplied) process.stderr.write(`password-resources: ${note}\n`);
      for (const user of report.skipped) {
        process.stderr.write(`password-resources: skipped user ${user.username === undefined ? '(no username)' : `"${user.username}"`}${user.id === undefined ? '' : ` (id ${user.id})`}: ${user.reason}\n`);
      }
      if (opts.json) print(JSON.stringify(report));
      else print(`imported ${report.imported}, unchanged ${report.unchanged}, skipped ${report.skipped.length} (realm "${report.realm}")`);
    });
}
