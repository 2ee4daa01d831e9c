/**
 * `npm run dev:idp`: a local identity provider for trying the service. Real
 * key pairs, the JWKS at Keycloak's path for every realm, and tokens minted at
 * `GET /realms/<realm>/dev-token?sub=<user id>` (add `&role=manage-users` for
 * the admin API). Listens on 127.0.0.1 only.
 */
import { TestIssuer } from '../test/helpers/issuer';

async function main(): Promise<void> {
  const port = Number(process.env.DEV_IDP_PORT ?? 8081);
  const issuer = new TestIssuer();
  await issuer.addKey('RS256');
  issuer.mintOverHttp = true;
  await issuer.listen(port);
  process.stdout.write(
    `dev IdP on ${issuer.baseUrl}: issuer ${issuer.issuerOf('<realm>')}, ` +
      `token: curl "${issuer.baseUrl}/realms/<realm>/dev-token?sub=<user id>"\n`,
  );
  process.once('SIGINT', () => void issuer.stop());
  process.once('SIGTERM', () => void issuer.stop());
}

void main();
