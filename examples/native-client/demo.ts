/**
 * `KEYCLOAK_URL=... npm run example:native-client`: the demo realm in the
 * Keycloak of `npm run keycloak:start`, the service beside it (step-up after
 * 5 minutes), and the native client run against both in this terminal.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startDemoService } from '../demo-service';
import { DEMO, ensureDemoRealm, keycloakUrlFromEnv } from '../keycloak-demo';

async function main(): Promise<void> {
  const keycloakUrl = keycloakUrlFromEnv();
  await ensureDemoRealm(keycloakUrl, { log: (line) => process.stdout.write(`[demo] ${line}\n`) });
  const service = await startDemoService(keycloakUrl, { maxAuthAge: 300 });
  process.stdout.write(`[demo] password-resources at ${service.url}; sign in as ${DEMO.user.username} / ${DEMO.user.password} (unless you changed it)\n`);
  const client = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'cli.ts'), '--issuer', `${keycloakUrl}/realms/${DEMO.realm}`, '--service', service.url], { stdio: 'inherit' });
  // Ctrl-C reaches the client too; stay to stop the service once it has gone.
  process.on('SIGINT', () => undefined);
  const code = await new Promise<number>((resolve) => {
    client.on('exit', (exit) => {
      resolve(exit ?? 1);
    });
  });
  await service.close();
  process.exitCode = code;
}

main().catch((error: unknown) => {
  process.stderr.write(`native-client demo: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
