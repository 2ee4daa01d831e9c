/** The realm's SMTP settings, as configured (the password masked by the API), and Keycloak's "Test connection". */
import { useCallback, useState } from 'react';
import type { ReactNode } from 'react';
import { Button, Form } from 'react-aria-components';
import type { RealmSettings } from '../api';
import { useConsole } from '../context';
import { Field, LoadedView, MessageView, PageHeading, useLoad, useMessage } from '../ui';

/** Keycloak's `smtpServer` fields, by the names its admin console shows, in its order. */
const SMTP_FIELDS: readonly (readonly [string, string])[] = [
  ['host', 'Host'],
  ['port', 'Port'],
  ['from', 'From'],
  ['fromDisplayName', 'From display name'],
  ['replyTo', 'Reply to'],
  ['replyToDisplayName', 'Reply to display name'],
  ['envelopeFrom', 'Envelope from'],
  ['ssl', 'SSL'],
  ['starttls', 'StartTLS'],
  ['auth', 'Authentication'],
  ['user', 'Username'],
  ['password', 'Password'],
];

export function EmailPage(): ReactNode {
  const { api, rights, config } = useConsole();
  const load = useCallback(() => api.realmSettings(), [api]);
  const { loaded } = useLoad(load);
  return (
    <>
      <div className="page-heading">
        <PageHeading realm={config.realm}>Email</PageHeading>
      </div>
      <LoadedView loaded={loaded}>{(settings) => <SmtpSettings settings={settings} />}</LoadedView>
      {rights.manageRealm ? <TestConnection /> : null}
    </>
  );
}

function SmtpSettings({ settings }: { settings: RealmSettings }): ReactNode {
  if (settings.smtpServer === undefined) return <p className="muted">The realm's settings are not shown: reading them needs the view-realm role.</p>;
  const smtp = settings.smtpServer;
  const shown = SMTP_FIELDS.filter(([name]) => smtp[name] !== undefined);
  if (shown.length === 0) return <p>The realm has no SMTP server: it sends no mail.</p>;
  return (
    <dl className="settings" aria-label="SMTP settings">
      {shown.map(([name, label]) => (
        <div key={name} className="setting">
          <dt>{label}</dt>
          <dd>{smtp[name]}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A test mail over the realm's settings, to the administrator's address unless another is given. */
function TestConnection(): ReactNode {
  const { api, email } = useConsole();
  const [to, setTo] = useState(email ?? '');
  const [busy, setBusy] = useState(false);
  const { message, succeed, fail, clear } = useMessage();
  const test = (event: { preventDefault(): void }): void => {
    event.preventDefault();
    clear();
    setBusy(true);
    const recipient = to.trim() === '' ? undefined : to.trim();
    api
      .testSmtp(recipient)
      .then(() => {
        succeed(`The test mail was sent${recipient === undefined ? '' : ` to ${recipient}`}.`);
      }, fail)
      .finally(() => {
        setBusy(false);
      });
  };
  return (
    <Form onSubmit={test} className="form-panel test-connection">
      <h2>Test connection</h2>
      <Field label="Send the test mail to" type="email" value={to} onChange={setTo} description="Your own address by default." />
      <div className="actions">
        <Button type="submit" isDisabled={busy}>
          Test connection
        </Button>
      </div>
      <MessageView message={message} />
    </Form>
  );
}
