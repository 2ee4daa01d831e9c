/**
 * `KEYCLOAK_URL=... npm run example:spa-account`: the demo realm in the
 * Keycloak of `npm run keycloak:start`, the service beside it (CORS for the
 * page, step-up after 5 minutes), and the page built and served on
 * http://127.0.0.1:5173.
 */
import { DEMO, ensureDemoRealm, keycloakUrlFromEnv } from '../keycloak-demo';
import { startDemoService } from '../demo-service';
import { buildSpa, startSpaServer } from './server';

async function main(): Promise<void> {
  const keycloakUrl = keycloakUrlFromEnv();
  const log = (line: string): void => {
    process.stdout.write(`[demo] ${line}\n`);
  };
  await ensureDemoRealm(keycloakUrl, { log });
  const service = await startDemoService(keycloakUrl, { cors: { origins: [DEMO.spaOrigin] }, maxAuthAge: 300 });
  log('building the page');
  const root = await buildSpa();
  const page = await startSpaServer(root, { authority: `${keycloakUrl}/realms/${DEMO.realm}`, clientId: DEMO.spaClient, service: service.url, realm: DEMO.realm }, Number(new URL(DEMO.spaOrigin).port));
  log(`open ${page.url} and sign in as ${DEMO.user.username} / ${DEMO.user.password} (unless you changed it); Ctrl-C stops`);
  process.once('SIGINT', () => {
    void Promise.all([page.close(), service.close()]).then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`spa-account demo: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
